"""Plot training curves from MMEngine's JSON logs.

``python tools/analysis_tools/plot_curves.py LOG [LOG ...] --out curves.png``

Each LOG is a ``vis_data/scalars.json`` (or ``vis_data/<timestamp>.json``)
that MMEngine writes under ``work_dir/<timestamp>/``, or a work dir, whose
latest run is used. Every key becomes one panel with the epoch on the x
axis: training scalars are averaged over each epoch's logged iterations
(``loss``), or take the epoch's last value (the pseudo-label statistics,
constant within an epoch); validation scalars (``reid/mAP``...) are plotted
at the epoch they were measured after (0 = before training). Several logs
are overlaid, labelled by their work dir.

Default panels: ``loss``, validation ``mAP``, ``pseudo_num_clusters`` and
``pseudo_nmi``, those the logs contain.
"""
import argparse
import glob
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

DEFAULT_KEYS = ('loss', 'mAP', 'pseudo_num_clusters', 'pseudo_nmi')
#: Training scalars that are constant within an epoch (last value kept).
_PER_EPOCH = ('pseudo_', 'lr')
TITLES = dict(
    loss='training loss',
    mAP='validation mAP (%)',
    pseudo_num_clusters='clusters (pseudo identities)',
    pseudo_num_outliers='outliers',
    pseudo_nmi='pseudo-label NMI vs. ground truth',
    pseudo_ari='pseudo-label ARI vs. ground truth')


def find_log(path: str) -> str:
    """The scalars file of ``path`` (a JSON file or a work dir).

    Raises:
        FileNotFoundError: if there is none.
    """
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = sorted(
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
            glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
        if found:
            return found[-1]  # timestamps sort chronologically
    raise FileNotFoundError(
        f'{path}: not a JSON log nor a work dir with '
        '<timestamp>/vis_data/scalars.json')


def load_records(path: str) -> List[dict]:
    """One dict per line of an MMEngine JSON log.

    Raises:
        ValueError: naming the file and line of a malformed record.
    """
    records = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {line_no}: not JSON ({err})')
    return records


def _matches(record_key: str, key: str) -> bool:
    return record_key == key or record_key.endswith('/' + key)


def epoch_series(records: Sequence[dict],
                 key: str) -> Dict[str, Tuple[List[int], List[float]]]:
    """The per-epoch values of ``key``.

    Args:
        records (Sequence[dict]): the log's records.
        key (str): a scalar name; ``'mAP'`` also matches prefixed keys such
            as ``'reid/mAP'`` (one series per full key).

    Returns:
        dict: full key -> ``(epochs, values)``, epochs increasing.
    """
    train: Dict[str, Dict[int, List[float]]] = OrderedDict()
    val: Dict[str, Dict[int, float]] = OrderedDict()
    for record in records:
        for name, value in record.items():
            if not _matches(name, key) or not isinstance(value, (int, float)):
                continue
            if 'iter' in record and 'epoch' in record:
                train.setdefault(name, {}).setdefault(
                    int(record['epoch']), []).append(float(value))
            elif 'step' in record:
                val.setdefault(name, {})[int(record['step'])] = float(value)
    series = OrderedDict()
    for name, per_epoch in train.items():
        keep_last = name.startswith(_PER_EPOCH)
        epochs = sorted(per_epoch)
        series[name] = (epochs, [
            per_epoch[e][-1] if keep_last else
            sum(per_epoch[e]) / len(per_epoch[e]) for e in epochs
        ])
    for name, per_epoch in val.items():
        epochs = sorted(per_epoch)
        series[name] = (epochs, [per_epoch[e] for e in epochs])
    return series


def _label(path: str) -> str:
    """The work dir of a ``work_dir/<timestamp>/vis_data/x.json`` log."""
    parts = osp.abspath(path).split(osp.sep)
    if len(parts) >= 4 and parts[-2] == 'vis_data':
        return parts[-4]
    return osp.basename(path)


def plot_curves(logs: Sequence[str],
                keys: Sequence[str] = DEFAULT_KEYS,
                out_file: str = 'curves.png',
                dpi: int = 100) -> List[str]:
    """Draw one panel per key found in the logs and save the figure.

    Args:
        logs (Sequence[str]): JSON logs or work dirs.
        keys (Sequence[str]): the scalars to plot.
        out_file (str): the PNG to write.
        dpi (int): resolution. Defaults to 100.

    Returns:
        list[str]: the keys that were plotted.

    Raises:
        ValueError: if no log holds any of the keys.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    paths = [find_log(log) for log in logs]
    data = [(path, load_records(path)) for path in paths]
    panels = []
    for key in keys:
        lines = []
        for path, records in data:
            for name, (epochs, values) in epoch_series(records, key).items():
                label = _label(path) if len(data) > 1 else None
                if name != key:
                    label = f'{label}: {name}' if label else name
                lines.append((epochs, values, label))
        if lines:
            panels.append((key, lines))
    if not panels:
        raise ValueError(f'none of the keys {list(keys)} occurs in {paths}')
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (key, lines) in zip(axes[0], panels):
        for epochs, values, label in lines:
            ax.plot(epochs, values, marker='o', markersize=3, label=label)
        ax.set_title(TITLES.get(key, key))
        ax.set_xlabel('epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if any(label for _, _, label in lines):
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_file, dpi=dpi)
    plt.close(fig)
    return [key for key, _ in panels]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot loss, mAP and pseudo-label curves from '
        "MMEngine's JSON logs")
    parser.add_argument(
        'logs', nargs='+', help='vis_data/scalars.json files or work dirs')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=list(DEFAULT_KEYS),
        help=f'scalars to plot (default: {" ".join(DEFAULT_KEYS)})')
    parser.add_argument(
        '--out', default='curves.png', help='the PNG file to write')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    plotted = plot_curves(args.logs, args.keys, args.out, args.dpi)
    print(f'{args.out}: {", ".join(plotted)}')
    return plotted


if __name__ == '__main__':
    main()
