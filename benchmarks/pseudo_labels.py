"""Benchmark the pseudo-label refresh at re-ID dataset sizes.

Structured synthetic features stand in for a re-ID model's output: each
planted identity has a centre on the unit sphere, each camera a bias shared
by all identities, each (identity, camera) pair a small viewpoint offset, and
every image its own noise, with identity sizes and noise levels that vary as
in real datasets. Everything derives from ``--seed``.

For every size the labelers run in a fresh subprocess (so that peak memory is
the run's own): the sparse ``DBSCANLabeler`` (the default) and, where
``N ** 2`` float32 fits comfortably in memory, the dense reference
(``sparse=False``). Reported per run: wall time and peak resident memory of
each stage (kNN, encoding, Jaccard, DBSCAN), of the whole step and of the
step after the kNN search, cluster and outlier counts, ARI / NMI / pairwise
F-score against the planted identities, and the ARI between the sparse and
the dense labels.

``--knn-backend`` chooses the sparse runs' kNN search (``'auto'`` resolves
as :func:`~mmreid_unsup.ops.knn_search` does; the JSON records what it
resolved to). With ``--compare-exact`` every size is labeled a second time
with the exact ``--exact-backend`` (the sparse labeler again, in its own
process), and the ARI between the two label sets is reported: how far an
approximate search (``'faiss_hnsw'``) moves the labels.

``--world-sizes 1 2 4`` also runs the sparse labeler split over 2 and 4
ranks (``labeler(features, camids, across_ranks=True)`` in that many gloo
processes on this machine, each with ``cpus // ranks`` torch threads, as
``ClusterRefreshHook`` runs it under DDP): rank 0's stage times, the
largest peak memory of a rank, and whether the labels are those of the
single-process run. Only 1 (no split) by default. The ranks share this
machine's cores, which the single process already uses with its threads;
``--threads-per-rank 1`` gives every process, the single one included, one
thread, as when each rank has a device of its own.

``--anchor-dir DIR`` also times the published Cluster-Contrast code on the
same features, in its own process: ``compute_jaccard_distance`` imported
from the checkout ``DIR`` (``clustercontrast/utils/faiss_rerank.py``, never
copied here) with its CPU search (``search_option=3``, faiss
``IndexFlatL2``; its default needs a GPU), then scikit-learn's DBSCAN on the
dense matrix as its training script calls it. Its kNN search runs inside
that function, so the row reports one time for kNN, encoding and Jaccard
together (the Jaccard column) and one for DBSCAN; the sparse run reports
its speed-up over it and whether the labels are the same. The published
package imports its datasets, models and trainers too, so its process holds
about 160 MiB more before the run (included in its peak RSS).

Usage::

    python benchmarks/pseudo_labels.py                       # all sizes
    python benchmarks/pseudo_labels.py --sizes 7365 --no-dense
    python benchmarks/pseudo_labels.py --sizes 12936 --world-sizes 1 2
    python benchmarks/pseudo_labels.py --out benchmarks/results/x.json
    # side by side with the published code (a checkout of
    # https://github.com/alibaba/cluster-contrast-reid)
    python benchmarks/pseudo_labels.py --sizes 32621 \
        --anchor-dir ../cluster-contrast-reid
    # the approximate search against the exact one, 512-d features
    python benchmarks/pseudo_labels.py --sizes 100000 --dim 512 \
        --knn-backend faiss_hnsw --compare-exact --no-dense \
        --out benchmarks/results/pseudo_labels_hnsw_100k.json
    # a million images: time and peak RSS per stage
    python benchmarks/pseudo_labels.py --sizes 1000000 --dim 512 \
        --knn-backend faiss_hnsw --no-dense \
        --out benchmarks/results/pseudo_labels_hnsw_1m.json

The default sizes are CUHK03 (7,365 train images, 767 ids), Market-1501
(12,936, 751), MSMT17 (32,621, 1,041) and 100,000 images (6,250 ids).
Other sizes get one planted identity per 16 images (62,500 at a million).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_contrast_checkout import (  # noqa: E402
    ANCHOR_URL, anchor_module_path, anchor_module_sha256,
    load_compute_jaccard_distance)
from machine_info import machine  # noqa: E402

#: Planted identities per size: the real datasets' train-set id counts.
DATASET_IDS = {7365: 767, 12936: 751, 32621: 1041}
STAGES = ('knn', 'encoding', 'jaccard', 'dbscan')


def num_identities(num: int) -> int:
    """Planted ids for ``num`` images (16 images per id, Market-1501's
    density, for sizes that are not a dataset's)."""
    return DATASET_IDS.get(num, max(2, num // 16))


def make_features(num: int,
                  dim: int = 2048,
                  num_ids: Optional[int] = None,
                  num_cams: int = 8,
                  seed: int = 0,
                  chunk: int = 8192):
    """Structured features with planted identities and camera bias.

    Args:
        num (int): number of images ``N``.
        dim (int): feature dimension. Defaults to 2048 (ResNet-50).
        num_ids (int, optional): planted identities; see
            :func:`num_identities`.
        num_cams (int): cameras. Defaults to 8.
        seed (int): random seed. Defaults to 0.
        chunk (int): rows generated at once (bounds the memory).

    Returns:
        tuple: ``(features, pids, camids)``: float32 ``(N, D)`` L2-normalised
        features, int64 ``(N,)`` identities and cameras.
    """
    num_ids = num_identities(num) if num_ids is None else num_ids
    rng = np.random.default_rng(seed)

    def unit(rows: int) -> np.ndarray:
        vecs = rng.standard_normal((rows, dim), dtype=np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    # Identity sizes: long-tailed, every id with at least 2 images.
    weights = rng.gamma(1.5, size=num_ids)
    sizes = 2 + rng.multinomial(num - 2 * num_ids, weights / weights.sum())
    pids = rng.permutation(np.repeat(np.arange(num_ids), sizes))
    # Each identity is seen by 2 to 4 cameras.
    seen = np.stack([
        rng.choice(num_cams, size=4, replace=False) for _ in range(num_ids)
    ])
    num_seen = rng.integers(2, 5, size=num_ids)
    camids = seen[pids, rng.integers(0, num_seen[pids])]

    centres = unit(num_ids)
    # One identity in eight looks like another one (similar clothes).
    alike = rng.permutation(num_ids)[:num_ids // 8]
    centres[alike] += 0.9 * centres[rng.integers(0, num_ids, len(alike))]
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    cam_bias = 0.2 * unit(num_cams)
    # Per-(identity, camera) viewpoint offsets and per-identity noise.
    views = 0.15 * unit(num_ids * num_cams).reshape(num_ids, num_cams, dim)
    noise_level = rng.uniform(0.4, 0.8, size=num_ids).astype(np.float32)

    feats = np.empty((num, dim), dtype=np.float32)
    for start in range(0, num, chunk):
        stop = min(start + chunk, num)
        pid, cam = pids[start:stop], camids[start:stop]
        block = centres[pid] + cam_bias[cam] + views[pid, cam]
        block += noise_level[pid, None] * unit(stop - start)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        feats[start:stop] = block
    return feats, pids.astype(np.int64), camids.astype(np.int64)


def run_one(num: int,
            dim: int,
            seed: int,
            sparse: bool,
            labels_path: str,
            knn_backend: str = 'auto',
            threads: Optional[int] = None) -> Dict:
    """Label one feature set in this process; returns the measurements."""
    import torch
    if threads:
        torch.set_num_threads(threads)

    # Imported before the timed call (the labeler imports it lazily, once
    # per process), as in the anchor run.
    import sklearn.cluster  # noqa: F401

    from mmreid_unsup.pseudo_labels import DBSCANLabeler
    from mmreid_unsup.pseudo_labels.profiling import current_rss_mb

    tic = time.perf_counter()
    feats, pids, camids = make_features(num, dim, seed=seed)
    time_features = time.perf_counter() - tic
    features = torch.from_numpy(feats)
    rss_before = current_rss_mb()

    # Cluster-Contrast defaults.
    knn_backend = parse_backend(knn_backend)
    labeler = DBSCANLabeler(sparse=sparse, knn_backend=knn_backend)
    resolved = resolved_backend(knn_backend, features)
    labels = labeler(features, torch.from_numpy(camids)).numpy()
    np.save(labels_path, labels)
    stats = labeler.last_stats
    result = dict(
        method='sparse' if sparse else 'dense',
        world_size=1,
        time_features=time_features,
        rss_before_mb=rss_before,
        # The process's peak over all stages: Python, torch, the features
        # and everything the step allocates.
        peak_rss_mb=stats['peak_mem_total'],
    )
    result.update(labeling_fields(labeler, resolved, labels, pids))
    result['peak_mem_after_knn'] = max(stats[f'peak_mem_{s}']
                                       for s in STAGES[1:])
    return result


def labeling_fields(labeler, knn_backend: str, labels: np.ndarray,
                    pids: np.ndarray) -> Dict:
    """The measurements every run reports, from a labeler's last call.

    Args:
        labeler (DBSCANLabeler): the labeler, after its call.
        knn_backend (str): the kNN backend it searched with
            (:func:`resolved_backend`).
        labels (np.ndarray): its pseudo labels.
        pids (np.ndarray): the true identities.

    Returns:
        dict: the set's size, the labeler and its kNN backend, the torch
        threads, total and per-stage time and peak memory, clusters,
        outliers, the graph's size, the labels' quality and the load
        average.
    """
    import torch

    from mmreid_unsup.pseudo_labels import pseudo_label_quality
    stats = labeler.last_stats
    fields = dict(
        num_samples=len(labels),
        num_ids=int(pids.max() + 1),
        torch_threads=torch.get_num_threads(),
        labeler=repr(labeler),
        knn_backend=knn_backend,
        time_total=stats['time_total'],
        time_after_knn=sum(stats[f'time_{s}'] for s in STAGES[1:]),
        num_clusters=stats['num_clusters'],
        num_outliers=stats['num_outliers'],
        graph_nnz=stats.get('graph_nnz'),
    )
    for stage in STAGES:
        fields[f'time_{stage}'] = stats[f'time_{stage}']
        fields[f'peak_mem_{stage}'] = stats[f'peak_mem_{stage}']
    fields.update(pseudo_label_quality(labels, pids))
    # Other processes on the machine slow every stage down: say how busy it
    # was (1-minute load average; the machine has os.cpu_count() cores).
    fields['load_average'] = os.getloadavg()[0]
    return fields


def parse_backend(text: str):
    """``--knn-backend``'s value: a backend name, or a JSON config such as
    ``'{"type": "faiss_hnsw", "ef_search": 48}'`` (a dict)."""
    return json.loads(text) if text.lstrip().startswith('{') else text


def resolved_backend(backend, features) -> str:
    """The registered name of the kNN backend ``backend`` stands for
    (``'auto'`` resolved for these features; a config's options appended
    as JSON)."""
    from mmreid_unsup.ops import knn
    from mmreid_unsup.registry import KNN_BACKENDS
    if isinstance(backend, dict):
        return json.dumps(backend, sort_keys=True)
    search_fn = knn.knn_search_function(backend, features)
    names = [n for n, f in KNN_BACKENDS.module_dict.items() if f is search_fn]
    return names[0] if names else backend


def worker_args(num: int, dim: int, seed: int, labels_path: str,
                knn_backend: str, threads: Optional[int]) -> List[str]:
    """The command-line arguments of one labelling run in a worker
    process (:func:`run_one` or :func:`run_rank`)."""
    return [
        '--sizes',
        str(num), '--dim',
        str(dim), '--seed',
        str(seed), '--labels-path', labels_path, '--knn-backend', knn_backend
    ] + (['--threads-per-rank', str(threads)] if threads else [])


def run_in_subprocess(num: int,
                      dim: int,
                      seed: int,
                      sparse: bool,
                      labels_path: str,
                      knn_backend: str = 'auto',
                      threads: Optional[int] = None,
                      anchor_dir: Optional[str] = None) -> Dict:
    """Run :func:`run_one` (or, given ``anchor_dir``, :func:`run_anchor`)
    in a fresh interpreter and parse its JSON."""
    cmd = [sys.executable, __file__, '--worker'] + worker_args(
        num, dim, seed, labels_path, knn_backend, threads) + (
            [] if sparse else ['--dense-worker'])
    if anchor_dir is not None:
        cmd += ['--anchor-dir', anchor_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return dict(
            num_samples=num,
            method='anchor' if anchor_dir is not None else
            'sparse' if sparse else 'dense',
            error=proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare_with_exact(run: Dict, exact: Dict, run_labels: str,
                       exact_labels: str) -> None:
    """Add to ``run`` how its labels and kNN time compare with ``exact``'s.

    Args:
        run (dict): a sparse run's measurements, updated in place with
            ``ari_vs_exact``, ``labels_identical_to_exact``,
            ``exact_knn_backend`` and ``knn_speedup_vs_exact``.
        exact (dict): the measurements of the same size with an exact kNN
            backend, updated with ``ari_vs_exact = 1``.
        run_labels (str): ``.npy`` path of ``run``'s labels.
        exact_labels (str): ``.npy`` path of ``exact``'s labels.
    """
    from sklearn.metrics import adjusted_rand_score
    if 'error' in run or 'error' in exact:
        return
    labels, reference = np.load(run_labels), np.load(exact_labels)
    run['ari_vs_exact'] = float(adjusted_rand_score(reference, labels))
    run['labels_identical_to_exact'] = bool((labels == reference).all())
    run['exact_knn_backend'] = exact.get('knn_backend')
    run['knn_speedup_vs_exact'] = exact['time_knn'] / run['time_knn']
    exact['ari_vs_exact'] = 1.0


def run_anchor(num: int,
               dim: int,
               seed: int,
               labels_path: str,
               anchor_dir: str,
               threads: Optional[int] = None) -> Dict:
    """Label one feature set with the published Cluster-Contrast code.

    Its Jaccard distance (``k1=30``, ``k2=6``, the CPU search) and
    scikit-learn's ``DBSCAN(eps=0.6, min_samples=4, metric='precomputed',
    n_jobs=-1)``, as ``examples/cluster_contrast_train_usl.py`` runs them.

    Args:
        num (int): number of images ``N``.
        dim (int): feature dimension.
        seed (int): seed of :func:`make_features`.
        labels_path (str): ``.npy`` file the labels are saved to.
        anchor_dir (str): a checkout of
            :data:`~cluster_contrast_checkout.ANCHOR_URL`.
        threads (int, optional): torch and faiss (OpenMP) threads. Defaults
            to their own defaults.

    Returns:
        dict: the measurements, with ``time_knn`` and ``time_encoding``
        None (they are inside ``time_jaccard``).
    """
    import faiss
    import torch
    if threads:
        torch.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)
    from sklearn.cluster import DBSCAN

    from mmreid_unsup.pseudo_labels import pseudo_label_quality
    from mmreid_unsup.pseudo_labels.profiling import (current_rss_mb,
                                                      peak_rss_mb,
                                                      reset_peak_rss)
    compute_jaccard_distance = load_compute_jaccard_distance(anchor_dir)
    tic = time.perf_counter()
    feats, pids, _ = make_features(num, dim, seed=seed)
    time_features = time.perf_counter() - tic
    features = torch.from_numpy(feats)
    rss_before = current_rss_mb()
    reset_peak_rss()

    tic = time.perf_counter()
    dist = compute_jaccard_distance(
        features, k1=30, k2=6, print_flag=False, search_option=3)
    time_jaccard = time.perf_counter() - tic
    peak_jaccard = peak_rss_mb()
    tic = time.perf_counter()
    labels = DBSCAN(
        eps=0.6, min_samples=4, metric='precomputed',
        n_jobs=-1).fit_predict(dist)
    time_dbscan = time.perf_counter() - tic
    np.save(labels_path, labels)
    result = dict(
        method='anchor',
        world_size=1,
        num_samples=num,
        num_ids=int(pids.max() + 1),
        torch_threads=torch.get_num_threads(),
        labeler=f'{ANCHOR_URL} compute_jaccard_distance(k1=30, k2=6, '
        "search_option=3) + DBSCAN(eps=0.6, min_samples=4, "
        "metric='precomputed')",
        anchor_module=str(anchor_module_path(anchor_dir)),
        anchor_sha256=anchor_module_sha256(anchor_dir),
        faiss_threads=faiss.omp_get_max_threads(),
        knn_backend='faiss IndexFlatL2 (inside compute_jaccard_distance)',
        time_features=time_features,
        rss_before_mb=rss_before,
        time_knn=None,
        time_encoding=None,
        time_jaccard=time_jaccard,
        time_dbscan=time_dbscan,
        time_total=time_jaccard + time_dbscan,
        time_after_knn=None,
        peak_mem_jaccard=peak_jaccard,
        peak_rss_mb=peak_rss_mb(),
        num_clusters=int(labels.max() + 1),
        num_outliers=int((labels < 0).sum()),
        graph_nnz=None,
        load_average=os.getloadavg()[0],
    )
    result.update(pseudo_label_quality(labels, pids))
    return result


def compare_with_anchor(sparse: Dict, anchor: Dict, sparse_labels: str,
                        anchor_labels: str) -> None:
    """Add to ``sparse`` how it compares with the anchor run.

    Args:
        sparse (dict): a sparse run's measurements, updated in place with
            ``labels_identical_to_anchor``, ``ari_vs_anchor`` and
            ``speedup_vs_anchor`` (total time).
        anchor (dict): the anchor run's measurements (:func:`run_anchor`).
        sparse_labels (str): ``.npy`` path of the sparse run's labels.
        anchor_labels (str): ``.npy`` path of the anchor run's labels.
    """
    from sklearn.metrics import adjusted_rand_score
    if 'error' in sparse or 'error' in anchor:
        return
    labels, reference = np.load(sparse_labels), np.load(anchor_labels)
    sparse['ari_vs_anchor'] = float(adjusted_rand_score(reference, labels))
    sparse['labels_identical_to_anchor'] = bool((labels == reference).all())
    sparse['speedup_vs_anchor'] = anchor['time_total'] / sparse['time_total']


def run_rank(num: int,
             dim: int,
             seed: int,
             labels_path: str,
             knn_backend: str,
             rank: int,
             world_size: int,
             port: int,
             threads: Optional[int] = None) -> Optional[Dict]:
    """One rank of the sparse labelling split over ``world_size`` gloo
    processes; rank 0 returns the measurements (the other ranks None)."""
    import torch
    import sklearn.cluster  # noqa: F401 (imported before the timed call)
    import torch.distributed as dist

    from mmreid_unsup.pseudo_labels import DBSCANLabeler

    # By default the machine's cores shared out, as one process per GPU /
    # core group.
    torch.set_num_threads(
        threads or max(1, (os.cpu_count() or 1) // world_size))
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        feats, pids, camids = make_features(num, dim, seed=seed)
        knn_backend = parse_backend(knn_backend)
        labeler = DBSCANLabeler(knn_backend=knn_backend)
        resolved = resolved_backend(knn_backend, torch.from_numpy(feats))
        dist.barrier()  # every rank starts the labelling together
        labels = labeler(
            torch.from_numpy(feats), torch.from_numpy(camids),
            across_ranks=True).numpy()
        stats = labeler.last_stats
        peaks = [None] * world_size
        dist.all_gather_object(peaks, stats['peak_mem_total'])
        dist.barrier()
    finally:
        dist.destroy_process_group()
    if rank != 0:
        return None
    np.save(labels_path, labels)
    result = dict(
        method='sparse',
        world_size=world_size,
        # The largest peak of a rank (each holds the features and the
        # gathered O(N k) lists).
        peak_rss_mb=max(peaks),
        peak_rss_mb_per_rank=peaks,
    )
    result.update(labeling_fields(labeler, resolved, labels, pids))
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_ranks_in_subprocesses(num: int,
                              dim: int,
                              seed: int,
                              world_size: int,
                              labels_path: str,
                              knn_backend: str = 'auto',
                              threads: Optional[int] = None) -> Dict:
    """Run :func:`run_rank` in ``world_size`` fresh interpreters; rank 0's
    JSON, or an ``error`` (the other ranks are stopped when one fails)."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        procs, logs = [], []
        for rank in range(world_size):
            # Files, not pipes: a rank must never block on a full pipe.
            out = open(os.path.join(tmp, f'{rank}.out'), 'w+')
            err = open(os.path.join(tmp, f'{rank}.err'), 'w+')
            logs.append((out, err))
            procs.append(
                subprocess.Popen([
                    sys.executable, __file__, '--rank-worker',
                    str(rank), '--world-size',
                    str(world_size), '--port',
                    str(port)
                ] + worker_args(num, dim, seed, labels_path, knn_backend,
                                threads),
                                 stdout=out,
                                 stderr=err))
        failed = None
        while failed is None and any(p.poll() is None for p in procs):
            time.sleep(0.2)
            failed = next((r for r, p in enumerate(procs)
                           if p.poll() not in (None, 0)), None)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if failed is None:
            failed = next(
                (r for r, p in enumerate(procs) if p.returncode != 0), None)
        texts = []
        for out, err in logs:
            out.seek(0)
            err.seek(0)
            texts.append((out.read(), err.read()))
            out.close()
            err.close()
    if failed is not None:
        return dict(
            num_samples=num,
            method='sparse',
            world_size=world_size,
            error=f'rank {failed}: ' + texts[failed][1][-2000:])
    return json.loads(texts[0][0].strip().splitlines()[-1])


def dense_fits(num: int) -> bool:
    """Whether twice the dense reference's ``(N, N)`` float32 matrix fits in
    three quarters of this machine's memory."""
    try:
        total = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (ValueError, OSError, AttributeError):
        return num <= 20000
    return 2 * 4 * num * num < 0.75 * total


def format_table(results: List[Dict]) -> str:
    """A Markdown table of the results."""
    head = ('| N | method | ranks | kNN s | encoding s | Jaccard s | '
            'DBSCAN s | total s | after kNN s | peak RSS MiB | clusters | '
            'outliers | ARI | NMI | F | labels vs 1 rank | ARI vs dense | '
            'ARI vs exact | vs anchor |')
    lines = [head, '|' + '---|' * 19]

    def seconds(value: Optional[float]) -> str:
        return '-' if value is None else f'{value:.1f}'

    for r in results:
        ranks = r.get('world_size', 1)
        if 'error' in r:
            lines.append(f"| {r['num_samples']:,} | {r['method']} | "
                         f'{ranks} | failed' + ' |' * 16)
            continue
        vs_anchor = '-'
        if 'speedup_vs_anchor' in r:
            vs_anchor = ('identical labels'
                         if r['labels_identical_to_anchor'] else
                         f"ARI {r['ari_vs_anchor']:.4f}")
            vs_anchor += f", {r['speedup_vs_anchor']:.1f}x faster"
        vs_dense = r.get('ari_vs_dense')
        vs_exact = r.get('ari_vs_exact')
        vs_single = r.get('labels_identical_to_single_process')
        if vs_single is not None:
            vs_single = ('identical' if vs_single else
                         f"ARI {r['ari_vs_single_process']:.4f}")
        method = r['method']
        if r.get('knn_backend'):
            method += f" ({r['knn_backend']})"
        lines.append(
            f"| {r['num_samples']:,} | {method} | {ranks} | "
            + ' | '.join(seconds(r[f'time_{s}']) for s in STAGES) +
            f" | {r['time_total']:.1f} | {seconds(r['time_after_knn'])} | "
            f"{r['peak_rss_mb']:,.0f} | {r['num_clusters']:,} | "
            f"{r['num_outliers']:,} | {r['ari']:.3f} | {r['nmi']:.3f} | "
            f"{r['pairwise_fscore']:.3f} | "
            + ('-' if vs_single is None else vs_single) + ' | '
            + ('-' if vs_dense is None else f'{vs_dense:.4f}') + ' | '
            + ('-' if vs_exact is None else f'{vs_exact:.4f}') + ' | '
            + vs_anchor + ' |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[7365, 12936, 32621, 100000])
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--knn-backend',
        default='auto',
        help="kNN backend of the sparse runs ('auto', 'torch', "
        "'torch_bf16', 'faiss', 'faiss_hnsw', or a JSON config such as "
        "'{\"type\": \"faiss_hnsw\", \"ef_search\": 48}'); the dense "
        "reference always uses 'torch'")
    parser.add_argument(
        '--compare-exact',
        action='store_true',
        help='label every size a second time with --exact-backend and '
        'report the ARI between the two label sets')
    parser.add_argument(
        '--exact-backend',
        default='torch',
        help="exact kNN backend of --compare-exact ('torch', 'torch_bf16' "
        "or 'faiss'). Defaults to 'torch'")
    parser.add_argument(
        '--no-dense',
        action='store_true',
        help='skip the dense reference at every size')
    parser.add_argument(
        '--world-sizes',
        type=int,
        nargs='+',
        default=[1],
        help='numbers of ranks (gloo processes on this machine) to split '
        'the sparse labelling over; the single-process run (1) is always '
        'made and is the reference. Defaults to 1 only')
    parser.add_argument(
        '--threads-per-rank',
        type=int,
        help='torch threads of every process, the single-process runs '
        'included (default: torch\'s own for one process, cpus // ranks '
        'for the ranks)')
    parser.add_argument(
        '--anchor-dir',
        help='a checkout of the published Cluster-Contrast code '
        f'({ANCHOR_URL}): label every size with it too, in its own '
        'process, and compare (never copied into this repository)')
    parser.add_argument(
        '--out',
        default=str(
            Path(__file__).parent / 'results' / 'pseudo_labels.json'))
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument(
        '--dense-worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--labels-path', help=argparse.SUPPRESS)
    parser.add_argument('--rank-worker', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--world-size', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--port', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.rank_worker is not None:
        result = run_rank(args.sizes[0], args.dim, args.seed,
                          args.labels_path, args.knn_backend,
                          args.rank_worker, args.world_size, args.port,
                          args.threads_per_rank)
        if result is not None:
            print(json.dumps(result))
        return
    if args.worker and args.anchor_dir is not None:
        print(
            json.dumps(
                run_anchor(args.sizes[0], args.dim, args.seed,
                           args.labels_path, args.anchor_dir,
                           args.threads_per_rank)))
        return
    if args.worker:
        print(
            json.dumps(
                run_one(args.sizes[0], args.dim, args.seed,
                        not args.dense_worker, args.labels_path,
                        args.knn_backend, args.threads_per_rank)))
        return
    if args.anchor_dir is not None:
        try:
            anchor_module_path(args.anchor_dir)
        except FileNotFoundError as exc:
            parser.error(str(exc))

    from sklearn.metrics import adjusted_rand_score
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for num in args.sizes:
            paths = {m: os.path.join(tmp, f'{num}_{m}.npy')
                     for m in ('sparse', 'dense', 'exact', 'anchor')}
            # The published code first: a checkout that does not import
            # (or run) stops the benchmark before the longer runs.
            anchor = None
            if args.anchor_dir is not None:
                anchor = run_in_subprocess(
                    num, args.dim, args.seed, True, paths['anchor'], 'torch',
                    args.threads_per_rank, args.anchor_dir)
                if 'error' in anchor:
                    sys.exit(f'--anchor-dir {args.anchor_dir}: the published '
                             f"code failed at N={num}:\n{anchor['error']}")
                print(json.dumps(anchor), flush=True)
            sparse = run_in_subprocess(num, args.dim, args.seed, True,
                                       paths['sparse'], args.knn_backend,
                                       args.threads_per_rank)
            print(json.dumps(sparse), flush=True)
            if anchor is not None:
                compare_with_anchor(sparse, anchor, paths['sparse'],
                                    paths['anchor'])
            exact = None
            if args.compare_exact:
                exact = run_in_subprocess(num, args.dim, args.seed, True,
                                          paths['exact'], args.exact_backend,
                                          args.threads_per_rank)
                print(json.dumps(exact), flush=True)
                compare_with_exact(sparse, exact, paths['sparse'],
                                   paths['exact'])
            dense = None
            if not args.no_dense and dense_fits(num):
                dense = run_in_subprocess(num, args.dim, args.seed, False,
                                          paths['dense'], 'torch',
                                          args.threads_per_rank)
                print(json.dumps(dense), flush=True)
                if 'error' not in dense and 'error' not in sparse:
                    agreement = float(
                        adjusted_rand_score(
                            np.load(paths['dense']),
                            np.load(paths['sparse'])))
                    identical = bool((np.load(paths['dense']) == np.load(
                        paths['sparse'])).all())
                    for r in (sparse, dense):
                        r['ari_vs_dense'] = agreement
                        r['labels_identical_to_dense'] = identical
                    sparse['speedup_total'] = (
                        dense['time_total'] / sparse['time_total'])
                    sparse['speedup_after_knn'] = (
                        dense['time_after_knn'] / sparse['time_after_knn'])
            results.append(sparse)
            if anchor is not None:
                results.append(anchor)
            if exact is not None:
                results.append(exact)
            if dense is not None:
                results.append(dense)
            for world_size in sorted(set(args.world_sizes) - {1}):
                path = os.path.join(tmp, f'{num}_ranks{world_size}.npy')
                split = run_ranks_in_subprocesses(
                    num, args.dim, args.seed, world_size, path,
                    args.knn_backend, args.threads_per_rank)
                if 'error' not in split and 'error' not in sparse:
                    single, labels = np.load(paths['sparse']), np.load(path)
                    split['labels_identical_to_single_process'] = bool(
                        (single == labels).all())
                    split['ari_vs_single_process'] = float(
                        adjusted_rand_score(single, labels))
                    split['speedup_vs_single_process'] = (
                        sparse['time_total'] / split['time_total'])
                print(json.dumps(split), flush=True)
                results.append(split)

    import faiss
    import sklearn
    report = dict(
        description='DBSCANLabeler (Cluster-Contrast defaults k1=30, k2=6, '
        'eps=0.6, min_samples=4) on structured synthetic features; sparse '
        '(default) vs dense reference (sparse=False); the sparse labelling '
        'split over world_size gloo ranks where world_size > 1' +
        (f'; sparse with knn_backend={args.knn_backend!r} vs '
         f'{args.exact_backend!r}' if args.compare_exact else '') +
        ('; anchor: the published Cluster-Contrast code (a checkout of '
         f'{ANCHOR_URL})' if args.anchor_dir else ''),
        dim=args.dim,
        knn_backend=args.knn_backend,
        seed=args.seed,
        machine=dict(
            machine(), faiss=faiss.__version__,
            sklearn=sklearn.__version__),
        results=results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + '\n')
    print(format_table(results))
    print(f'written to {out}')


if __name__ == '__main__':
    main()
