"""Time the bad-data check of a re-ID dataset on real and synthetic images.

``python benchmarks/data_check.py [--cuhk03 data/cuhk03]
[--synthetic 4000] [--size 256x128] [--repeats 3]
[--out benchmarks/results/data_check.json]``

Two image sets:

- ``cuhk03``: the real CUHK03 crops (64x128 JPEG) of the all-train list
  ``splits/train.csv`` (7,365 images), read by ``ReIDAnnotationDataset``
  from ``data/cuhk03`` (``make data`` links it); skipped when the folder is
  not there.
- ``synthetic``: ``--synthetic`` generated crops (smooth random colours plus
  noise, JPEG quality 95, ``--size`` pixels) in Market-1501's layout, read
  by ``Market1501``. One file in a hundred is replaced by a bad one, in
  turn a truncated JPEG, a zero-byte file, a text file, a grayscale JPEG,
  an RGBA PNG, a 16-bit PNG and a PNG with garbled pixel data; the
  report's counts must match what was planted (the garbled PNGs only at
  ``image_check='decode'``), else the script exits with status 1.

Each set is built ``--repeats`` times per ``image_check`` level (``'none'``,
``'header'``, ``'decode'``, with ``bad_data='skip'``); the table gives the
median time of the whole build and of the check alone, the files checked
per second and what the report found. A last row per set times
``LoadImageFromFile`` over every usable file: what one pass of the
pipeline spends loading images, for scale. The files come from a warm page
cache (just written, or read by an earlier row): on a cold disk or a
network file system every row also pays the storage latency. The JSON
records the machine's load average before and after the run.
"""
import argparse
import json
import os
import os.path as osp
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

LEVELS = ('none', 'header', 'decode')
# Planted bad file -> (what the report counts it as, at header / decode).
PLANTED = dict(
    truncated_jpeg=('corrupt', 'corrupt'),
    empty=('empty', 'empty'),
    not_image=('not_image', 'not_image'),
    grayscale=('grayscale', 'grayscale'),
    rgba=('alpha', 'alpha'),
    gray16=('high_bit_depth', 'high_bit_depth'),
    garbled_png=(None, 'corrupt'),
)


def _smooth_crop(rng: np.random.Generator, height: int,
                 width: int) -> np.ndarray:
    """Blurred random colours plus pixel noise: JPEG sizes like real crops."""
    small = rng.integers(0, 256, (8, 4, 3), dtype=np.uint8)
    img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 8, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _encode(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, img, [cv2.IMWRITE_JPEG_QUALITY, 95]
                           if ext == '.jpg' else [])
    if not ok:
        raise RuntimeError(f'cannot encode {ext}')
    return buf.tobytes()


def _bad_file(kind: str, img: np.ndarray) -> bytes:
    if kind == 'truncated_jpeg':
        data = _encode(img, '.jpg')
        return data[:len(data) * 2 // 3]
    if kind == 'empty':
        return b''
    if kind == 'not_image':
        return b'this file was written by a log rotation, not a camera\n'
    if kind == 'grayscale':
        return _encode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), '.jpg')
    if kind == 'rgba':
        return _encode(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA), '.png')
    if kind == 'gray16':
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.uint16)
        return _encode(gray * 257, '.png')
    if kind == 'garbled_png':
        data = bytearray(_encode(img, '.png'))
        start = data.index(b'IDAT') + 10
        for i in range(start, start + 64):
            data[i] ^= 0xFF
        return bytes(data)
    raise KeyError(kind)


def write_synthetic(root: str, num: int, size: Tuple[int, int],
                    seed: int = 0) -> Counter:
    """Write ``num`` crops into ``root/bounding_box_train``, 1 % of them bad.

    Returns:
        Counter: How many files of each planted kind were written.
    """
    folder = osp.join(root, 'bounding_box_train')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    kinds = list(PLANTED)
    planted: Counter = Counter()
    for i in range(num):
        img = _smooth_crop(rng, *size)
        name = f'{i // 8:04d}_c{i % 4 + 1}s1_{i:06d}_00.jpg'
        if i % 100 == 50:
            kind = kinds[(i // 100) % len(kinds)]
            data = _bad_file(kind, img)
            planted[kind] += 1
        else:
            data = _encode(img, '.jpg')
        with open(osp.join(folder, name), 'wb') as f:
            f.write(data)
    return planted


def expected_counts(planted: Counter, level: str) -> Dict[str, int]:
    """What the report must find at ``level`` in a synthetic set."""
    if level == 'none':
        return {}
    column = LEVELS.index(level) - 1
    counts: Counter = Counter()
    for kind, num in planted.items():
        found = PLANTED[kind][column]
        if found:
            counts[found] += num
    return dict(counts)


def time_builds(build: Callable, level: str, repeats: int) -> dict:
    """Build the dataset ``repeats`` times; medians of the timings."""
    totals, checks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        dataset = build(level)
        totals.append(time.perf_counter() - start)
        checks.append(dataset.bad_data_report.check_seconds)
    report = dataset.bad_data_report
    check = statistics.median(checks)
    return dict(
        build_seconds=statistics.median(totals),
        check_seconds=check,
        files_checked=report.num_files_checked,
        files_per_second=(report.num_files_checked /
                          check if check > 0 else None),
        counts=dict(report.counts),
        num_samples=len(dataset)), dataset


def time_loading(dataset) -> float:
    """Seconds for ``LoadImageFromFile`` over every sample's file."""
    from mmcv.transforms import LoadImageFromFile
    load = LoadImageFromFile()
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    start = time.perf_counter()
    for path in paths:
        load(dict(img_path=path))
    return time.perf_counter() - start


def run_set(name: str, build: Callable, repeats: int) -> dict:
    result: dict = dict(levels={})
    dataset = None
    for level in LEVELS:
        result['levels'][level], dataset = time_builds(build, level, repeats)
        print(f'{name} {level}: {result["levels"][level]}', flush=True)
    result['num_files'] = result['levels']['none']['num_samples']
    result['load_seconds'] = time_loading(dataset)
    return result


def table(results: Dict[str, dict]) -> str:
    lines = [
        '| set | files | image size | check | build (s) | check (s) | '
        'files/s | found |', '|---|---:|---|---|---:|---:|---:|---|'
    ]
    for name, res in results.items():
        for level, run in res['levels'].items():
            rate = (f'{run["files_per_second"]:,.0f}'
                    if run['files_per_second'] else '-')
            found = ', '.join(f'{k} {v}' for k, v in run['counts'].items())
            lines.append(
                f'| {name} | {res["num_files"]:,} | {res["image_size"]} | '
                f'{level} | {run["build_seconds"]:.2f} | '
                f'{run["check_seconds"]:.2f} | {rate} | {found or "-"} |')
        usable = res['levels']['decode']['num_samples']
        lines.append(
            f'| {name} | {usable:,} | {res["image_size"]} | reference: '
            f'LoadImageFromFile over every usable file | - | '
            f'{res["load_seconds"]:.2f} | {usable / res["load_seconds"]:,.0f} '
            '| - |')
    return '\n'.join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--cuhk03',
        default=osp.join(REPO_ROOT, 'data', 'cuhk03'),
        help='the CUHK03 crops (default: data/cuhk03 of the repository, '
        'linked by make data; "" to skip them)')
    parser.add_argument(
        '--synthetic',
        type=int,
        default=4000,
        help='number of synthetic images (0 to skip them)')
    parser.add_argument(
        '--size', default='256x128', help='synthetic image size, HxW')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--out',
        default=osp.join(REPO_ROOT, 'benchmarks', 'results',
                         'data_check.json'))
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    load_before = os.getloadavg()[0]
    from mmengine.logging import MMLogger

    from mmreid_unsup.datasets import Market1501, ReIDAnnotationDataset

    # The reports of the planted files would flood the output.
    MMLogger.get_instance('data_check_benchmark', log_level='ERROR')
    results: Dict[str, dict] = {}
    problems: List[str] = []
    cuhk03 = args.cuhk03 and osp.abspath(args.cuhk03)
    if cuhk03 and osp.isfile(osp.join(cuhk03, 'splits', 'train.csv')):

        def build_cuhk03(level):
            return ReIDAnnotationDataset(
                data_root=cuhk03,
                ann_file='splits/train.csv',
                camid_base=1,
                bad_data='skip',
                image_check=level)

        results['cuhk03 (real)'] = run_set('cuhk03', build_cuhk03,
                                           args.repeats)
        results['cuhk03 (real)']['image_size'] = '128x64'
    elif cuhk03:
        print(f'skipping CUHK03: {cuhk03}/splits/train.csv not found '
              '(make data links the shared crops there)')

    if args.synthetic:
        height, width = (int(v) for v in args.size.lower().split('x'))
        root = tempfile.mkdtemp(prefix='data_check_')
        try:
            planted = write_synthetic(root, args.synthetic, (height, width))

            def build_synthetic(level):
                return Market1501(
                    data_root=root, bad_data='skip', image_check=level)

            res = run_set('synthetic', build_synthetic, args.repeats)
        finally:
            shutil.rmtree(root)
        res['image_size'] = f'{height}x{width}'
        res['planted'] = dict(planted)
        for level, run in res['levels'].items():
            expected = expected_counts(planted, level)
            if run['counts'] != expected:
                problems.append(f'synthetic, {level}: found {run["counts"]}, '
                                f'planted {expected}')
        results[f'synthetic ({args.synthetic:,})'] = res

    import torch
    report = dict(
        machine=dict(
            cpus=os.cpu_count(),
            processor=platform.machine(),
            python=platform.python_version(),
            opencv=cv2.__version__,
            torch=torch.__version__,
            # Other jobs on the machine slow every row alike.
            load_average=[round(load_before, 2),
                          round(os.getloadavg()[0], 2)]),
        date=time.strftime('%Y-%m-%d'),
        repeats=args.repeats,
        results=results,
        problems=problems)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print('\n' + table(results))
    print(f'\n(written to {args.out})')
    for problem in problems:
        print(f'MISMATCH {problem}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
