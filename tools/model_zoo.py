"""List, describe and download the checkpoints of the model zoo.

Usage::

    python tools/model_zoo.py list
    python tools/model_zoo.py info NAME
    python tools/model_zoo.py download NAME [NAME ...] [--no-progress]

``--index FILE`` (before the command) reads another ``model-index.yml``
than ``$MMREID_ZOO_INDEX`` or the repository's ``model-index.yml``.
Downloads go to ``$MMREID_CACHE_DIR`` (default
``~/.cache/mmreid_unsup/checkpoints``), are resumed when interrupted and
are verified against the sha256 of the index; ``MMREID_ZOO_MIRROR`` and
``MMREID_OFFLINE`` apply (see ``model_zoo/README.md``).
"""
import argparse
import sys
from typing import List, Optional, Sequence

from mmreid_unsup.model_zoo import (ENV_MIRROR, ModelIndex, ModelZooError,
                                    ZooModel, cache_dir, cached_checkpoint,
                                    get_checkpoint, load_index, mirror_url,
                                    sha256_file)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description='The mmreid_unsup model zoo: list the released '
        'checkpoints, show one, download (resumable, sha256-verified).')
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        index = load_index(args.index)
        if args.command == 'list':
            print('\n'.join(list_models(index)))
        elif args.command == 'info':
            print('\n'.join(describe(index, args.name)))
        else:
            models = [index.get(name) for name in args.names]
            for model in models:
                path = get_checkpoint(
                    model, progress=False if args.no_progress else None)
                print(f'{model.name}: {path} (sha256 {model.sha256} '
                      'verified)')
    except (ModelZooError, FileNotFoundError) as err:
        print(f'model_zoo: error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
