"""Jaccard distances and DBSCAN labels by Cluster-Contrast's code, once.

The reference for ``tests/test_pseudo_labels/test_cluster_contrast_parity.py``:
this toolbox's k-reciprocal Jaccard distance and ``DBSCANLabeler`` must give,
on the same features, what the published code gives. Cluster-Contrast is not a
dependency and is never copied here: point this script at a checkout of
https://github.com/alibaba/cluster-contrast-reid and it imports
``clustercontrast/utils/faiss_rerank.py`` from there, runs
``compute_jaccard_distance`` with its CPU search (``search_option=3``, faiss
``IndexFlatL2``) and scikit-learn's ``DBSCAN(metric='precomputed')`` as the
training script ``examples/cluster_contrast_train_usl.py`` calls it.

The features are generated here from ``--seed`` (numpy): Gaussian blobs of
varied sizes and spreads around random centres, L2-normalised, in shuffled
order, so that the set has clusters, near-merges and outliers.

Usage::

    python tools/misc/cluster_contrast_reference_jaccard.py \\
        --anchor-dir ../cluster-contrast-reid \\
        --out tests/data/cluster_contrast_parity/blobs-546-d64.npz

The ``.npz`` holds ``features`` (float32, ``(N, D)``), the reference
distance's entries below 1 (``rows``, ``cols``, ``values``, float32; every
other entry is 1), ``labels`` (int64, ``(len(eps), N)``, one row per
``eps``) and ``meta`` (a JSON string: the checkout's module and its sha256,
faiss, numpy, scikit-learn and torch versions, the CPU, ``k1``, ``k2``,
``eps``, ``min_samples`` and the generator's settings).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'benchmarks'))
from cluster_contrast_checkout import (  # noqa: E402
    ANCHOR_MODULE, ANCHOR_URL, anchor_module_path, anchor_module_sha256,
    load_compute_jaccard_distance)


def blob_features(num_clusters: int, dim: int, seed: int) -> np.ndarray:
    """Blobs of 4 to 40 samples with spreads of 0.5 to 1.5, normalised; a
    quarter of the centres pulled towards another one.

    Args:
        num_clusters (int): blobs.
        dim (int): feature dimension.
        seed (int): numpy seed.

    Returns:
        np.ndarray: ``(N, dim)`` float32 unit rows, shuffled.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 41, size=num_clusters)
    spreads = rng.uniform(0.5, 1.5, size=num_clusters)
    centres = rng.standard_normal((num_clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    alike = rng.permutation(num_clusters)[:num_clusters // 4]
    centres[alike] += 0.8 * centres[rng.integers(0, num_clusters,
                                                 len(alike))]
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = [
        centre + spread * rng.standard_normal((size, dim)) / np.sqrt(dim)
        for centre, spread, size in zip(centres, spreads, sizes)
    ]
    feats = np.concatenate(rows)[rng.permutation(int(sizes.sum()))]
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    return feats.astype(np.float32)


def reference(anchor_dir: Path, features: np.ndarray, k1: int, k2: int,
              eps: List[float], min_samples: int) -> Dict[str, np.ndarray]:
    """The checkout's distance (entries below 1) and DBSCAN labels.

    Args:
        anchor_dir (Path): a checkout of :data:`ANCHOR_URL`.
        features (np.ndarray): ``(N, D)`` float32 unit rows.
        k1 (int): k-reciprocal neighbourhood size.
        k2 (int): neighbours of the local query expansion.
        eps (list[float]): DBSCAN radii, one label row each.
        min_samples (int): DBSCAN's core-point size.

    Returns:
        dict: ``rows``, ``cols`` (int32) and ``values`` (float32) of the
        entries below 1, and ``labels`` (int64, ``(len(eps), N)``).
    """
    import torch
    from sklearn.cluster import DBSCAN
    compute = load_compute_jaccard_distance(anchor_dir)
    dist = compute(
        torch.from_numpy(features), k1=k1, k2=k2, print_flag=False,
        search_option=3)
    rows, cols = np.nonzero(dist < 1)
    labels = np.stack([
        DBSCAN(eps=e, min_samples=min_samples,
               metric='precomputed').fit_predict(dist) for e in eps
    ]).astype(np.int64)
    return dict(rows=rows.astype(np.int32), cols=cols.astype(np.int32),
                values=dist[rows, cols].astype(np.float32), labels=labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--anchor-dir', type=Path, required=True)
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--num-clusters', type=int, default=24)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--k1', type=int, default=30)
    parser.add_argument('--k2', type=int, default=6)
    # Radii between two of the reference's distances (at least 3e-4 from
    # every one): float32 rounding cannot move a pair across them.
    parser.add_argument('--eps', type=float, nargs='+',
                        default=[0.3991, 0.4817, 0.5997])
    parser.add_argument('--min-samples', type=int, default=4)
    args = parser.parse_args()

    import faiss
    import sklearn
    import torch

    from machine_info import cpu
    try:
        anchor_module_path(args.anchor_dir)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    features = blob_features(args.num_clusters, args.dim, args.seed)
    ref = reference(args.anchor_dir, features, args.k1, args.k2, args.eps,
                    args.min_samples)
    meta = dict(
        repository=ANCHOR_URL,
        source=str(ANCHOR_MODULE),
        source_sha256=anchor_module_sha256(args.anchor_dir),
        call=f'compute_jaccard_distance(features, k1={args.k1}, '
        f'k2={args.k2}, search_option=3); DBSCAN(eps, '
        f"min_samples={args.min_samples}, metric='precomputed')",
        faiss=faiss.__version__, numpy=np.__version__,
        sklearn=sklearn.__version__, torch=torch.__version__, cpu=cpu(),
        k1=args.k1, k2=args.k2, eps=args.eps,
        min_samples=args.min_samples,
        generator=dict(num_clusters=args.num_clusters, dim=args.dim,
                       seed=args.seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, features=features, meta=json.dumps(meta),
                        **ref)
    clusters = [int(row.max() + 1) for row in ref['labels']]
    margin = min(float(np.abs(ref['values'] - e).min()) for e in args.eps)
    print(f'{len(features)} samples, {len(ref["values"])} distances below 1, '
          f'clusters per eps {dict(zip(args.eps, clusters))}, the nearest '
          f'distance {margin:.1e} from an eps; written to {args.out}')


if __name__ == '__main__':
    main()
