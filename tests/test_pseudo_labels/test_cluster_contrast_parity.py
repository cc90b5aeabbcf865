"""The Jaccard distance and DBSCAN labels are those of Cluster-Contrast's code.

The reference (``tests/data/cluster_contrast_parity/*.npz``) was computed
once by ``tools/misc/cluster_contrast_reference_jaccard.py`` with the
published ``clustercontrast/utils/faiss_rerank.py`` (its CPU search, faiss
``IndexFlatL2``) and scikit-learn's DBSCAN, on 546 generated 64-d features
(24 blobs, a quarter of them pulled towards another: 19 clusters with 30
outliers at eps 0.3991, 18 with 18 at 0.4817, 19 with none at 0.5997; each
eps at least 3e-4 from every distance, so float32 rounding cannot move a
pair across it). Cluster-Contrast is not needed to run this test. Every
exact kNN backend must reproduce the dense distance and the sparse graph
within 1e-6 and, sparse and dense, the labels exactly.
"""
import json

import numpy as np
import pytest
import torch

from mmreid_unsup.ops import is_faiss_available
from mmreid_unsup.ops.jaccard_distance import compute_jaccard_distance
from mmreid_unsup.ops.sparse_jaccard import compute_sparse_jaccard_distance
from mmreid_unsup.pseudo_labels import DBSCANLabeler
from tiny_cluster_contrast import REPO_ROOT, load_script

REFERENCE = (REPO_ROOT / 'tests' / 'data' / 'cluster_contrast_parity' /
             'blobs-546-d64.npz')
BACKENDS = ['torch', 'torch_bf16'] + (['faiss']
                                      if is_faiss_available() else [])


@pytest.fixture(scope='module')
def reference():
    data = np.load(REFERENCE)
    meta = json.loads(str(data['meta']))
    num = len(data['features'])
    dist = np.ones((num, num), dtype=np.float32)
    dist[data['rows'], data['cols']] = data['values']
    return dict(features=torch.from_numpy(data['features']), dist=dist,
                labels=data['labels'], meta=meta)


def test_reference_records_its_source(reference):
    meta = reference['meta']
    assert meta['repository'].endswith('alibaba/cluster-contrast-reid')
    assert meta['source'] == 'clustercontrast/utils/faiss_rerank.py'
    assert len(meta['source_sha256']) == 64
    assert (meta['k1'], meta['k2'], meta['min_samples']) == (30, 6, 4)
    # The set tests something: merged blobs, outliers at the smaller eps.
    labels = reference['labels']
    assert len(meta['eps']) == len(labels) == 3
    assert 1 < labels[0].max() + 1 < meta['generator']['num_clusters']
    assert (labels[0] < 0).sum() > (labels[1] < 0).sum() > 0
    # No distance within float32 rounding of an eps.
    values = reference['dist'][reference['dist'] < 1]
    for eps in meta['eps']:
        assert np.abs(values - eps).min() > 1e-4, eps


@pytest.mark.parametrize('backend', BACKENDS)
def test_dense_distance_equals_the_published_code(reference, backend):
    meta = reference['meta']
    dist = compute_jaccard_distance(reference['features'], meta['k1'],
                                    meta['k2'], backend=backend)
    np.testing.assert_allclose(dist, reference['dist'], rtol=0, atol=1e-6)


@pytest.mark.parametrize('backend', BACKENDS)
def test_sparse_graph_equals_the_published_code(reference, backend):
    meta = reference['meta']
    graph = compute_sparse_jaccard_distance(reference['features'],
                                            meta['k1'], meta['k2'],
                                            backend=backend)
    dist = np.ones_like(reference['dist'])
    coo = graph.tocoo()
    dist[coo.row, coo.col] = coo.data
    np.testing.assert_allclose(dist, reference['dist'], rtol=0, atol=1e-6)


@pytest.mark.parametrize('sparse', [True, False], ids=['sparse', 'dense'])
@pytest.mark.parametrize('backend', BACKENDS)
def test_labels_equal_the_published_code(reference, backend, sparse):
    meta = reference['meta']
    for eps, expected in zip(meta['eps'], reference['labels']):
        labeler = DBSCANLabeler(
            k1=meta['k1'], k2=meta['k2'], eps=eps,
            min_samples=meta['min_samples'], knn_backend=backend,
            sparse=sparse)
        labels = labeler(reference['features'], None)
        np.testing.assert_array_equal(np.asarray(labels), expected,
                                      err_msg=f'eps={eps}')


@pytest.fixture(scope='module')
def tool():
    return load_script(
        REPO_ROOT / 'tools' / 'misc' / 'cluster_contrast_reference_jaccard.py',
        'cluster_contrast_reference_jaccard')


def test_the_tool_regenerates_the_reference_features(reference, tool):
    generator = reference['meta']['generator']
    feats = tool.blob_features(generator['num_clusters'], generator['dim'],
                               generator['seed'])
    assert torch.equal(torch.from_numpy(feats), reference['features'])


def test_the_tool_names_a_checkout_without_the_module(tool, tmp_path):
    with pytest.raises(FileNotFoundError,
                       match='clustercontrast/utils/faiss_rerank.py'):
        tool.load_compute_jaccard_distance(tmp_path)
