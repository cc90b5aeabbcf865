"""List, describe and download the checkpoints of the model zoo.

Usage::

    python tools/model_zoo.py list
    python tools/model_zoo.py info NAME
    python tools/model_zoo.py download NAME [NAME ...] [--no-progress]
    python tools/model_zoo.py verify [NAME ...] [--data-root DIR]

``--index FILE`` (before the command) reads another ``model-index.yml``
than ``$MMREID_ZOO_INDEX`` or the repository's ``model-index.yml``.
Downloads go to ``$MMREID_CACHE_DIR`` (default
``~/.cache/mmreid_unsup/checkpoints``), are started again when a transfer
fails and are verified against the sha256 of the index;
``MMREID_ZOO_MIRROR`` and ``MMREID_OFFLINE`` apply (see
``model_zoo/README.md``).

``verify`` re-measures released checkpoints: each entry (all entries with
a result by default) is evaluated from the zoo by ``tools/test.py CONFIG
zoo://NAME`` in its own process, and every metric of its results must
equal the metafile's to ``--tolerance`` points. ``--data-root`` replaces the
config's test ``data_root``. The exit status is 1 if any number differs.
Run it before a release is merged; CI re-measures one entry with it and
loads every entry (``tests/test_model_zoo/test_released_models.py``).
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import tempfile
from typing import Callable, Dict, List, Optional, Sequence

from mmreid_unsup.model_zoo import (ENV_MIRROR, ModelIndex, ModelZooError,
                                    ZooModel, cache_dir, cached_checkpoint,
                                    get_checkpoint, load_index, mirror_url,
                                    sha256_file)
from mmreid_unsup.utils import freeze_gc_at_exit


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description='The mmreid_unsup model zoo: list the released '
        'checkpoints, show one, download (sha256-verified).')
    parser.add_argument(
        '--index',
        help='the model-index.yml to read (default: $MMREID_ZOO_INDEX, '
        'else model-index.yml of the repository)')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='the names in the index')
    info = commands.add_parser('info', help='everything about one entry')
    info.add_argument('name')
    download = commands.add_parser(
        'download', help='fetch and verify into the cache')
    download.add_argument('names', nargs='+', metavar='NAME')
    download.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    verify = commands.add_parser(
        'verify',
        help='re-measure entries with tools/test.py and compare the numbers '
        'with their metafiles')
    verify.add_argument(
        'names',
        nargs='*',
        metavar='NAME',
        help='the entries (default: every entry with a result)')
    verify.add_argument(
        '--data-root', help="the test set's data_root (default: the config's)")
    verify.add_argument(
        '--tolerance',
        type=float,
        default=0.01,
        help='largest allowed difference in points (default 0.01)')
    return parser.parse_args(argv)


def _summary(model: ZooModel, max_metrics: int = 2) -> str:
    """``Dataset: mAP 1.0, Rank-1 2.0`` for each result."""
    parts = []
    for result in model.results:
        metrics = ', '.join(f'{k} {v:g}'
                            for k, v in list(result.metrics.items())
                            [:max_metrics])
        parts.append(f'{result.dataset}: {metrics}')
    return '; '.join(parts) or '-'


def list_models(index: ModelIndex) -> List[str]:
    """The lines printed by ``list``.

    Args:
        index (ModelIndex): The index.

    Returns:
        list[str]: A header and one line per model, or a note when the
        index is empty.
    """
    if not len(index):
        return [
            f'no model in the index {index.path} (no checkpoint released yet)'
        ]
    rows = [('name', 'collection', 'results', 'local file')]
    for model in index:
        if model.in_repository:
            local = 'in repository'
        else:
            local = ('cached' if (cache_dir() / model.filename).is_file()
                     else 'not cached')
        rows.append((model.name, model.collection or '-', _summary(model),
                     local))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        '  '.join(cell.ljust(width)
                  for cell, width in zip(row, widths)) + '  ' + row[3]
        for row in rows
    ]


def describe(index: ModelIndex, name: str) -> List[str]:
    """The lines printed by ``info NAME`` (verifies a cached file).

    Args:
        index (ModelIndex): The index.
        name (str): The entry.

    Returns:
        list[str]: ``key: value`` lines.

    Raises:
        UnknownModelError: ``name`` is not in the index.
    """
    model = index.get(name)
    try:
        config = str(model.config_path(index.path))
    except FileNotFoundError:
        config = f'{model.config} (not found)'
    lines = [
        f'Name: {model.name}',
        f'Collection: {model.collection or "-"}',
        f'Config: {config}',
        f'Weights: {model.weights}',
    ]
    url = model.weights if model.in_repository else mirror_url(
        model.weights)
    if url != model.weights:
        lines.append(f'Download from: {url} ({ENV_MIRROR})')
    lines.append(f'SHA256: {model.sha256}')
    for key, value in model.metadata.items():
        lines.append(f'{key}: {value}')
    for result in model.results:
        metrics = ', '.join(f'{k} {v:g}' for k, v in result.metrics.items())
        lines.append(f'Result: {result.task} on {result.dataset} '
                     f'({result.split}; {result.protocol}): {metrics}')
    if model.in_repository:
        path = model.repository_file
        state = (f'{path} (sha256 verified)' if path.is_file()
                 and sha256_file(path) == model.sha256 else
                 f'{path} (missing or not matching the sha256)')
        lines.append(f'In repository: {state}')
    else:
        cached = cached_checkpoint(model)
        lines.append(f'Cached: {cached} (sha256 verified)' if cached else
                     f'Cached: no (would be {cache_dir() / model.filename})')
    lines.append(f'Metafile: {model.metafile}')
    return lines


#: Metafile metric names -> the keys of ``tools/test.py --out``.
METRIC_KEYS = {
    'mAP': 'reid/mAP',
    'Rank-1': 'reid/rank1',
    'Rank-5': 'reid/rank5',
    'Rank-10': 'reid/rank10',
    'mINP': 'reid/mINP',
}
TEST_TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'test.py')
#: ``measure(model, config, data_root) -> tools/test.py metrics``.
Measure = Callable[[ZooModel, str, Optional[str]], Dict[str, float]]


def measure_with_test_tool(model: ZooModel, config: str,
                           data_root: Optional[str]) -> Dict[str, float]:
    """Evaluate ``zoo://NAME`` with ``tools/test.py`` in a new process.

    Args:
        model (ZooModel): The entry.
        config (str): Its config file.
        data_root (str, optional): Overrides the test set's ``data_root``.

    Returns:
        dict[str, float]: The metrics ``tools/test.py`` wrote.

    Raises:
        RuntimeError: ``tools/test.py`` failed (its exit status is named).
    """
    with tempfile.TemporaryDirectory(prefix='zoo_verify_') as work_dir:
        out = osp.join(work_dir, 'metrics.json')
        command = [
            sys.executable, TEST_TOOL, config, f'zoo://{model.name}',
            '--work-dir', work_dir, '--out', out
        ]
        if data_root:
            command += [
                '--cfg-options', f'test_dataloader.dataset.data_root='
                f'{data_root}'
            ]
        status = subprocess.run(command).returncode
        if status != 0 or not osp.isfile(out):
            raise RuntimeError(f'{model.name}: tools/test.py exited with '
                               f'status {status}: {" ".join(command)}')
        with open(out) as f:
            return json.load(f)


def verify(index: ModelIndex,
           names: Sequence[str],
           data_root: Optional[str] = None,
           tolerance: float = 0.01,
           measure: Optional[Measure] = None) -> List[List[str]]:
    """Re-measure entries and compare every metric with the metafile.

    Args:
        index (ModelIndex): The index.
        names (Sequence[str]): The entries; empty: every entry with a
            result.
        data_root (str, optional): Overrides the test set's ``data_root``.
        tolerance (float): Largest allowed difference (points).
        measure (callable, optional): Evaluates one entry. Defaults to
            :func:`measure_with_test_tool`.

    Returns:
        list[list[str]]: One row per metric: name, metric, metafile value,
        measured value, ``'ok'`` or ``'DIFFERS'``.

    Raises:
        UnknownModelError: A name is not in the index.
        ValueError: A named entry has no result, or a result names a metric
            ``tools/test.py`` does not report.
    """
    measure = measure or measure_with_test_tool
    models = ([index.get(name) for name in names]
              if names else [m for m in index if m.results])
    rows = []
    for model in models:
        if not model.results:
            raise ValueError(f'{model.name} ({model.metafile}) has no '
                             'Results to verify')
        unknown = [
            k for r in model.results for k in r.metrics
            if k not in METRIC_KEYS
        ]
        if unknown:
            raise ValueError(
                f'{model.name} ({model.metafile}): metric(s) {unknown} '
                f'cannot be measured; known: {sorted(METRIC_KEYS)}')
        measured = measure(model, str(model.config_path(index.path)),
                           data_root)
        for result in model.results:
            for metric, value in result.metrics.items():
                got = measured[METRIC_KEYS[metric]]
                state = 'ok' if abs(got - value) <= tolerance else 'DIFFERS'
                rows.append([
                    model.name, metric, f'{value:.2f}', f'{got:.2f}', state
                ])
    return rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        index = load_index(args.index)
        if args.command == 'list':
            print('\n'.join(list_models(index)))
        elif args.command == 'info':
            print('\n'.join(describe(index, args.name)))
        elif args.command == 'verify':
            rows = verify(index, args.names, args.data_root, args.tolerance)
            header = ['name', 'metric', 'metafile', 'measured', 'state']
            print('\n'.join('  '.join(row) for row in [header] + rows))
            if any(row[-1] != 'ok' for row in rows):
                print('model_zoo: error: measured numbers differ from the '
                      'metafiles', file=sys.stderr)
                return 1
        else:
            models = [index.get(name) for name in args.names]
            for model in models:
                path = get_checkpoint(
                    model, progress=False if args.no_progress else None)
                print(f'{model.name}: {path} (sha256 {model.sha256} '
                      'verified)')
    except (ModelZooError, FileNotFoundError, ValueError,
            RuntimeError) as err:
        print(f'model_zoo: error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    freeze_gc_at_exit()
    sys.exit(main())
