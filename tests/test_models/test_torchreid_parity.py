"""A converted torchreid model gives torchreid's own features here.

The reference (``tests/data/torchreid_parity/*.npz``) was computed once by
``tools/model_converters/torchreid_reference_features.py`` with torchreid's
``osnet.py`` and its test transform on the first 200 CUHK03 dev query
crops; torchreid is not needed to run this test. The protocol's model
(the MSMT17 OSNet-x0.25 as backbone + ``OSNetFCNeck``) and its 256x128 test
pipeline (``configs/_base_/protocols/``, as every 256x128 dataset file of
``configs/_base_/datasets/``) must reproduce those features: measured
mean cosine 1.0000 (min 1.0000) with PIL bilinear resizing; the OpenCV
bicubic resize used before gave 0.983 (min 0.963).
"""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmreid_unsup.apis import extract_features
from mmreid_unsup.registry import MODELS
from tiny_cluster_contrast import REPO_ROOT, shared_dir, with_shared_paths

REFERENCE = (REPO_ROOT / 'tests' / 'data' / 'torchreid_parity' /
             'osnet_x0_25_msmt17_cuhk03-dev-query-200.npz')
WEIGHTS = shared_dir() / 'weights' / 'osnet_x0_25_msmt17.pth'
CUHK03 = shared_dir() / 'data' / 'cuhk03'
PROTOCOL_CONFIG = (
    REPO_ROOT / 'configs' / 'cluster_contrast' /
    'cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py')

pytestmark = pytest.mark.skipif(
    not (WEIGHTS.is_file() and (CUHK03 / 'full').is_dir()),
    reason=f'needs {WEIGHTS} and the CUHK03 crops under {CUHK03} (set '
    'MMREID_SHARED_DIR)')


def test_reference_records_its_source():
    meta = json.loads(str(np.load(REFERENCE)['meta']))
    assert meta['osnet_py'] == 'torchreid/models/osnet.py'
    assert 'deep-person-reid' in meta['source']
    assert meta['weights'] == WEIGHTS.name
    assert 'bilinear' in meta['transform']


@pytest.mark.slow
def test_protocol_model_and_pipeline_give_torchreids_features():
    reference = np.load(REFERENCE)
    init_default_scope('mmreid_unsup')
    cfg = Config.fromfile(str(PROTOCOL_CONFIG))
    # WEIGHTS, not data/weights, which a fresh clone has not linked.
    model = MODELS.build(with_shared_paths(cfg.model.to_dict()))
    model.init_weights()
    model.cfg = cfg  # extract_features reads its test pipeline
    paths = [str(CUHK03 / name) for name in reference['filenames']]
    ours = extract_features(model, paths, batch_size=50, progress=False)
    theirs = torch.from_numpy(reference['features'].astype(np.float32))
    cosine = F.cosine_similarity(ours, theirs, dim=1)
    assert ours.shape == (200, 512)
    assert cosine.mean().item() >= 0.999, cosine.mean().item()
    assert cosine.min().item() >= 0.995, cosine.min().item()
