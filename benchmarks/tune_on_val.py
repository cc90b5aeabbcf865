"""Choose a method's settings on held-out validation identities.

A method's protocol config (``configs/<method>/*_cuhk03-dev.py``) is run
once per named variant, each with its own overrides, on the validation
split of ``configs/_base_/datasets/cuhk03_dev_holdout-val.py``: 67 of the
567 training identities are held out (never trained on) and serve as query
/ gallery, so the dev test split is never looked at. Every row is the last
epoch's; with ``--epoch0`` the untrained starting embedding comes first.

Usage::

    python benchmarks/tune_on_val.py configs/scl/scl_osnet-...-dev.py \\
        --variant base \\
        --variant centred model.head.selector.camera_centering=True \\
        --out benchmarks/results/tuning/scl.json

The JSON holds one row per variant (``variant``, ``options``, the metrics
of :func:`compare_methods.train_method`) and the machine; the Markdown
table goes beside it. Both are rewritten after every variant, so a search
stopped midway keeps its finished rows (``complete`` is then false);
``--append`` adds new variants after the rows already in ``--out`` (each
row keeps the commit it ran). The
method's README copies the table and the chosen variant becomes its
protocol config.
"""
import argparse
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_methods  # noqa: E402

#: ``cfg_options`` that move a protocol config onto the validation split,
#: as ``configs/_base_/datasets/cuhk03_dev_holdout-val.py`` does.
HOLDOUT = dict(num_holdout_ids=67, holdout_seed=0)
HOLDOUT_VAL_OPTIONS = {
    'train_dataloader.dataset.num_holdout_ids': HOLDOUT['num_holdout_ids'],
    'train_dataloader.dataset.holdout_seed': HOLDOUT['holdout_seed'],
    'cluster_dataloader.dataset.num_holdout_ids': HOLDOUT['num_holdout_ids'],
    'cluster_dataloader.dataset.holdout_seed': HOLDOUT['holdout_seed'],
}
for _loader in ('val_dataloader', 'test_dataloader'):
    HOLDOUT_VAL_OPTIONS.update({
        f'{_loader}.dataset.split': 'holdout',
        f'{_loader}.dataset.ann_file': 'splits/dev_train.csv',
        f'{_loader}.dataset.query_ann_file': '',
        f'{_loader}.dataset.gallery_ann_file': '',
        f'{_loader}.dataset.num_holdout_ids': HOLDOUT['num_holdout_ids'],
        f'{_loader}.dataset.holdout_seed': HOLDOUT['holdout_seed'],
    })


def variant_options(items: List[str]) -> Dict:
    """Overrides of one ``--variant NAME KEY=VALUE ...``, as a dict."""
    return compare_methods._parse_cfg_options(items) or {}


def validation_split(path: Path, options: Dict) -> str:
    """Refuse a variant whose merged config leaves the validation split.

    The config with :data:`HOLDOUT_VAL_OPTIONS` and the variant's overrides
    must still train and refresh on ``dev_train.csv`` without the held-out
    identities and validate on exactly those, and no hook may bring a
    dataloader of its own.

    Args:
        path (Path): The method's protocol config.
        options (dict): The variant's overrides.

    Returns:
        str: The split's name, ``'holdout-val'``.

    Raises:
        SystemExit: Naming the offending key.
    """
    from mmengine.config import Config
    for key in options:
        if key.split('.')[0] in ('val_dataloader', 'test_dataloader') or (
                key.startswith(('train_dataloader.dataset',
                                'cluster_dataloader.dataset'))):
            raise SystemExit(f'--variant: {key} changes the data; tuning '
                             'trains on dev_train.csv without the held-out '
                             'identities and validates on those only')
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict({**HOLDOUT_VAL_OPTIONS, **options})
    expected = dict(ann_file='splits/dev_train.csv', **HOLDOUT)
    for loader in ('train_dataloader', 'cluster_dataloader',
                   'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        found = {k: dataset.get(k) for k in expected}
        if found != expected or (loader in ('val_dataloader',
                                            'test_dataloader')
                                 and dataset.get('split') != 'holdout'):
            raise SystemExit(f'{path}: {loader}.dataset is {found} '
                             f'(split {dataset.get("split")!r}) with the '
                             f'validation overrides; expected {expected}')
    for hook in cfg.get('custom_hooks', []):
        if hook.get('dataloader') is not None:
            raise SystemExit(f'{path}: custom hook {hook.get("type")} has '
                             'its own dataloader, which the validation '
                             'split does not reach')
    return 'holdout-val'


def _cell(value, digits: int = 2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def format_table(rows: List[Dict]) -> str:
    """The Markdown search table: one row per variant.

    Besides the validation metrics it shows the pseudo supervision's
    quality against the hidden ids at the end: the cluster ARI, or the
    precision and cross-camera fraction of the selected neighbours (SCL's
    positives, GSL's credible samples) or pairs (PPSSL).
    """
    lines = [
        '| variant | overrides | val mAP | val rank-1 | val mINP | '
        'pseudo ARI | neighbour precision | neighbours cross-camera | '
        'wall min |', '|' + '---|' * 9
    ]
    for row in rows:
        stats = row.get('neighbour_stats') or {}
        precision = stats.get('pos_precision', stats.get(
            'credible_precision', row.get('pseudo_pair_precision')))
        cross = stats.get('pos_cross_camera',
                          stats.get('credible_cross_camera'))
        options = ' '.join(f'`{k}={v}`' for k, v in row['options'].items())
        lines.append('| ' + ' | '.join([
            row['variant'], options or '-',
            _cell(row['mAP']),
            _cell(row['rank1']),
            _cell(row['mINP']),
            _cell(row.get('pseudo_ari'), 3),
            _cell(precision, 3),
            _cell(cross, 3),
            _cell(row.get('wall_minutes'), 1)
        ]) + ' |')
    return '\n'.join(lines)


def kept_rows(out: Path, config: Path, names: List[str]) -> List[Dict]:
    """The rows of an earlier search of ``config`` written to ``out``.

    Each row keeps the commit it ran (``commit``; rows written before it
    was recorded per row get the file's).

    Raises:
        SystemExit: ``out`` holds another config's search, or a row named
            like one of ``names``.
    """
    if not out.is_file():
        return []
    previous = json.loads(out.read_text(encoding='utf-8'))
    if Path(previous['config']).name != config.name:
        raise SystemExit(f'--append: {out} is the search of '
                         f'{previous["config"]}, not of {config}')
    rows = [dict(row, commit=row.get('commit', previous.get('commit')))
            for row in previous['rows']]
    taken = sorted({r['variant'] for r in rows} & set(names))
    if taken:
        raise SystemExit(f'--append: {out} already has the variants '
                         f'{taken}; give the new ones other names')
    return rows


def main(argv: Optional[List[str]] = None) -> Dict:
    """Run every variant; returns what it wrote to the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help="the method's protocol config")
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        required=True,
        metavar='NAME [KEY=VALUE ...]',
        help='a named set of overrides; repeat for every variant')
    parser.add_argument(
        '--epoch0',
        action='store_true',
        help='first evaluate the untrained starting embedding')
    parser.add_argument('--seed', type=int, help="overrides the config's")
    parser.add_argument(
        '--work-dir', default=str(REPO_ROOT / 'work_dirs' / 'tune'))
    parser.add_argument(
        '--out', required=True, help='the JSON file (.md beside it)')
    parser.add_argument(
        '--append',
        action='store_true',
        help="keep the rows already in --out (the same config's search) and "
        'add these variants after them')
    args = parser.parse_args(argv)

    from mmreid_unsup.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    path = Path(args.config)
    if not path.is_file():
        raise SystemExit(f'{path} is not a file')
    names = [v[0] for v in args.variant]
    if len(set(names)) != len(names) or any('=' in n for n in names):
        raise SystemExit('--variant: each needs a distinct NAME before its '
                         f'KEY=VALUE overrides, got {names}')
    variants = [(v[0], variant_options(v[1:])) for v in args.variant]
    for _, options in variants:
        validation_split(path, options)
    work_root = Path(args.work_dir) / path.stem
    started = datetime.datetime.now(datetime.timezone.utc)
    commit = compare_methods.git_commit()  # the code this process runs
    rows = kept_rows(Path(args.out), path, names) if args.append else []
    planned = len(rows) + len(variants) + int(args.epoch0)

    def save() -> Dict:
        """Write the rows so far: a search stopped midway keeps them."""
        result = dict(
            started=started.isoformat(timespec='seconds'),
            commit=commit,
            split='holdout-val (67 held-out training identities)',
            config=str(path),
            machine=compare_methods.machine(),
            load_average=os.getloadavg()[0],
            complete=len(rows) == planned,
            rows=rows)
        compare_methods.write_results(result, format_table(rows),
                                      Path(args.out))
        return result

    if args.epoch0:
        row = compare_methods.epoch0(path, work_root / 'epoch0',
                                     dict(HOLDOUT_VAL_OPTIONS))
        rows.append(dict(row, variant='epoch 0', options={},
                         commit=commit))
        print(json.dumps(rows[-1]), flush=True)
        save()
    for name, options in variants:
        row = compare_methods.train_method(
            path, work_root / name, args.seed,
            {**HOLDOUT_VAL_OPTIONS, **options})
        rows.append(dict(row, variant=name, options=options,
                         commit=commit))
        print(json.dumps(rows[-1]), flush=True)
        result = save()
    return result

if __name__ == '__main__':
    sys.path.insert(0, str(REPO_ROOT))
    main()
