"""Compare methods under one protocol: direct transfer, then each method.

The fair CPU protocol (``configs/_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-
msmt17.py``) fixes the starting model (the MSMT17 OSNet-x0.25), the data
(CUHK03 ``dev_train.csv`` unlabeled; ``dev_query.csv`` / ``dev_gallery.csv``
for evaluation), the input size, batch, iterations, epochs and seed. Every
method's protocol config inherits it and changes only the method. This
script runs the chosen configs one after another in this process and
writes a Markdown table and JSON:

- direct transfer: the first config's model evaluated before any training;
- with ``--epoch0``, each method's own starting embedding before training
  (the plain model plus whatever branches the method adds);
- each method: last-epoch mAP, rank-1, rank-5, mINP, the pseudo-label ARI /
  NMI against the true ids at the last refresh, wall time and training
  images/s (images of the training iterations over their time, without the
  refreshes and evaluations).

``--seeds 1 2 3`` repeats every method with each seed and reports the mean
and the spread (population standard deviation) of every number.

The JSON is rewritten after every run (``complete`` is false until the
last), with each run's own row under ``runs`` (its ``kind``, requested
seed, commit and CPU). ``--resume`` keeps the finished runs of an earlier,
interrupted invocation with the same ``--out`` and ``--cfg-options`` and
runs only the missing ones (and those whose config, as merged with its
bases, changed since), so a table of many runs can be built over
several sittings; every run keeps the commit it ran. The runs an
invocation with ``--resume`` does not schedule (other configs, seeds or
kinds) are carried over unchanged, so a table can be extended one method
at a time; the table marks the rows of a carried config that changed
since it ran as stale.

Usage::

    python benchmarks/compare_methods.py                # every protocol config
    python benchmarks/compare_methods.py --configs A.py B.py --seeds 1 2
    python benchmarks/compare_methods.py --cfg-options train_cfg.max_epochs=1
    python benchmarks/compare_methods.py --epoch0 --no-train  # untrained rows
    python benchmarks/compare_methods.py --seeds 1 2 3 --resume  # go on

Model choice is never made on the test split here: every number is the last
epoch's.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import cpu, machine  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
#: A config follows the protocol when one of its bases is this file.
PROTOCOL = 'cpu_cuhk03-dev_osnet-x0.25-msmt17.py'
#: Metric keys of a row, in table order.
METRICS = ('mAP', 'rank1', 'rank5', 'mINP')
#: Pseudo-label scores at the last refresh: ARI / NMI of cluster labels,
#: partner precision of pseudo pairs (PPSSL); None where they do not apply.
PSEUDO = ('ari', 'nmi', 'pair_precision')
#: What identifies a run rather than measures it (not averaged over seeds).
RUN_KEYS = ('method', 'config', 'seed', 'kind', 'requested_seed', 'commit',
            'cpu', 'config_digest')


def protocol_configs(root: Path = REPO_ROOT) -> List[Path]:
    """Every method config under ``configs/`` that inherits the protocol.

    Args:
        root (Path): The repository root.

    Returns:
        list[Path]: The configs, sorted by path.
    """
    found = []
    for path in sorted((root / 'configs').glob('*/*.py')):
        if '_base_' in path.parts:
            continue
        if PROTOCOL in path.read_text(encoding='utf-8'):
            found.append(path)
    return found


def num_images(inputs: Sequence) -> int:
    """Images in a collated batch's ``inputs``.

    One list per view for a ``MultiView`` pipeline (an image and its
    augmented copy are two images), otherwise one entry per image.
    """
    if len(inputs) and isinstance(inputs[0], (list, tuple)):
        return sum(len(view) for view in inputs)
    return len(inputs)


def _probe_hook():
    """A hook class that records what a protocol row needs."""
    from mmengine.hooks import Hook

    class ProtocolProbe(Hook):
        """Training time and images, last validation, last pseudo labels."""

        priority = 'LOWEST'

        def __init__(self) -> None:
            self.train_seconds = 0.0
            self.train_images = 0
            self.metrics: Dict[str, float] = {}
            self._tic: Optional[float] = None

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self._tic = time.perf_counter()

        def after_train_iter(self,
                             runner,
                             batch_idx,
                             data_batch=None,
                             outputs=None):
            self.train_seconds += time.perf_counter() - self._tic
            self.train_images += num_images(data_batch['inputs'])

        def after_val_epoch(self, runner, metrics=None):
            self.metrics = dict(metrics or {})

    return ProtocolProbe


def _metric(metrics: Dict[str, float], name: str) -> float:
    """``name`` of ``ReIDMetric``'s results (key ``reid/<name>``)."""
    key = f'reid/{name}'
    if key not in metrics:
        raise KeyError(f'the evaluation returned no {key!r}; got '
                       f'{sorted(metrics)} (the protocol evaluates with '
                       'ReIDMetric)')
    return float(metrics[key])


def _load_config(path: Path, work_dir: Path, seed: Optional[int],
                 cfg_options: Optional[dict]):
    """The config of one run, with its own work dir and seed."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = str(work_dir)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    # Each runner gets its own logger and visualizer instance.
    cfg.experiment_name = f'{work_dir.name}_{time.time_ns()}'
    return cfg


def evaluate_untrained(path: Path, work_dir: Path,
                       cfg_options: Optional[dict], method: str) -> Dict:
    """Evaluate a config's model as it starts, before any training.

    Args:
        path (Path): A protocol config (its model's starting weights are the
            protocol's).
        work_dir (Path): Where the run writes its logs.
        cfg_options (dict, optional): Overrides merged into the config.
        method (str): The row's ``method`` name.

    Returns:
        dict: The row: ``method``, ``config`` and the metrics.
    """
    from mmreid_unsup.engine import build_runner
    tic = time.perf_counter()
    runner = build_runner(_load_config(path, work_dir, None, cfg_options))
    # Before train(), ReIDRunner.val() initialises the weights first: the
    # protocol's starting weights come from the model's init_cfg.
    metrics = runner.val()
    row = dict(method=method, config=str(path))
    row.update({name: _metric(metrics, name) for name in METRICS})
    row['wall_minutes'] = (time.perf_counter() - tic) / 60
    return row


def direct_transfer(path: Path, work_dir: Path,
                    cfg_options: Optional[dict]) -> Dict:
    """The protocol's starting model (the first config's), untrained."""
    return evaluate_untrained(path, work_dir, cfg_options,
                              'direct transfer (no training)')


def epoch0(path: Path, work_dir: Path, cfg_options: Optional[dict]) -> Dict:
    """A method's own starting embedding, untrained.

    A method may embed differently from the plain starting model (extra
    branches, other heads), so "improves" is measured against this row.
    """
    from mmengine.config import Config
    model_type = Config.fromfile(str(path)).model.type
    return evaluate_untrained(path, work_dir, cfg_options,
                              f'{model_type} at epoch 0')


def train_method(path: Path, work_dir: Path, seed: Optional[int],
                 cfg_options: Optional[dict]) -> Dict:
    """Train one method under the protocol and measure its last epoch.

    Args:
        path (Path): The method's protocol config.
        work_dir (Path): Where the run writes logs and checkpoints.
        seed (int, optional): Overrides the protocol's seed.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        dict: The row: ``method``, ``config``, ``seed``, the metrics, the
        pseudo-label ARI / NMI at the last refresh (None without ground
        truth), ``wall_minutes`` and ``train_images_per_s``.
    """
    from mmreid_unsup.engine import build_runner
    tic = time.perf_counter()
    cfg = _load_config(path, work_dir, seed, cfg_options)
    runner = build_runner(cfg)
    probe = _probe_hook()()
    runner.register_hook(probe)
    runner.train()
    if not probe.metrics:
        raise RuntimeError(
            f'{path}: training ended without a validation; set '
            'train_cfg.val_interval to divide max_epochs')
    scalars = runner.message_hub.log_scalars
    row = dict(
        method=cfg.model.type, config=str(path), seed=cfg.randomness.seed)
    row.update({name: _metric(probe.metrics, name) for name in METRICS})
    for name in PSEUDO:
        key = f'train/pseudo_{name}'
        row[f'pseudo_{name}'] = (
            float(scalars[key].current()) if key in scalars else None)
    # Instance methods' neighbour quality (SCL: pos_*, GSL: credible_*).
    row['neighbour_stats'] = {
        key[len('train/'):]: float(buf.current())
        for key, buf in scalars.items()
        if key.startswith(('train/pos_', 'train/credible_'))
    }
    row['wall_minutes'] = (time.perf_counter() - tic) / 60
    row['train_images_per_s'] = (
        probe.train_images / probe.train_seconds
        if probe.train_seconds > 0 else None)
    return row


def summarise(runs: Sequence[Dict]) -> Dict:
    """Mean and spread of the runs of one method (over seeds).

    Args:
        runs (Sequence[dict]): Rows of :func:`train_method`, one per seed.

    Returns:
        dict: ``method``, ``config``, ``seeds`` and, for every number,
        ``<key>_mean`` and ``<key>_std`` (population standard deviation,
        0 for one run; None where a run had no value), with ``<key>`` the
        mean too (so trained and untrained rows read alike); a dict of
        numbers (``neighbour_stats``) is summarised the same way, key by
        key.
    """
    summary = dict(
        method=runs[0]['method'],
        config=runs[0]['config'],
        seeds=[r['seed'] for r in runs])
    commits = sorted({r['commit'] for r in runs if r.get('commit')})
    if commits:
        summary['commits'] = commits
    keys = [k for k, v in runs[0].items() if k not in RUN_KEYS]
    for key in keys:
        values = [r.get(key) for r in runs]
        if isinstance(values[0], dict):
            summary[key] = _mean_and_spread(
                [v or {} for v in values], sorted(values[0]))
            continue
        summary.update(_mean_and_spread([{key: v} for v in values], [key]))
    return summary


def _mean_and_spread(values: Sequence[Dict], keys: Sequence[str]) -> Dict:
    """``key`` and ``key_mean`` (the mean over ``values``) and ``key_std``
    for every key; None where some run lacks a number."""
    out = {}
    for key in keys:
        numbers = [v.get(key) for v in values]
        if any(n is None for n in numbers):
            out[key] = out[f'{key}_mean'] = out[f'{key}_std'] = None
            continue
        out[key] = out[f'{key}_mean'] = statistics.fmean(numbers)
        out[f'{key}_std'] = statistics.pstdev(numbers)
    return out


def _cell(row: Dict, key: str, digits: int = 2) -> str:
    value = row.get(key)
    if value is None:
        return '-'
    text = f'{value:.{digits}f}'
    spread = row.get(f'{key}_std')
    if spread and len(row.get('seeds', [])) > 1:
        text += f' ± {spread:.{digits}f}'
    return text


def format_table(rows: Sequence[Dict]) -> str:
    """The Markdown table of the direct-transfer row and the method rows;
    a row whose config changed after it ran says so (``stale``)."""
    head = ('| method | config | seeds | mAP | rank-1 | rank-5 | mINP | '
            'pseudo ARI | pseudo NMI | pair precision | wall min | '
            'train img/s |')
    lines = [head, '|' + '---|' * 12]
    for row in rows:
        method = row['method']
        if row.get('stale'):
            method += ' (stale: its config changed since)'
        seeds = row.get('seeds')
        lines.append('| ' + ' | '.join([
            method,
            f"`{Path(row['config']).name}`",
            ', '.join(str(s) for s in seeds) if seeds else '-',
            _cell(row, 'mAP'),
            _cell(row, 'rank1'),
            _cell(row, 'rank5'),
            _cell(row, 'mINP'),
            _cell(row, 'pseudo_ari', 3),
            _cell(row, 'pseudo_nmi', 3),
            _cell(row, 'pseudo_pair_precision', 3),
            _cell(row, 'wall_minutes', 1),
            _cell(row, 'train_images_per_s', 1),
        ]) + ' |')
    return '\n'.join(lines)


def git_commit() -> str:
    """The repository's commit (``-dirty`` with local changes), or ''."""
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                                cwd=REPO_ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no'],
                               cwd=REPO_ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ''
    return commit + ('-dirty' if dirty else '')


def run_record() -> Dict:
    """What a benchmark result records of its run: the commit, the machine,
    the load and torch's thread count."""
    import torch
    return dict(
        commit=git_commit(),
        machine=machine(),
        load_average=os.getloadavg()[0],
        torch_threads=torch.get_num_threads())


def write_results(result: Dict, table: str, out: Path) -> None:
    """Write a benchmark's JSON to ``out`` and its Markdown table beside it
    (``.md``), atomically, and print the table and where they went."""
    from mmreid_unsup.utils import atomic_write_bytes
    out = Path(out)
    atomic_write_bytes(json.dumps(result, indent=2).encode(), out)
    atomic_write_bytes((table + '\n').encode(), out.with_suffix('.md'))
    print('\n' + table + f'\n\nwritten to {out} and {out.with_suffix(".md")}')


def _parse_cfg_options(items: Optional[List[str]]) -> Optional[dict]:
    if not items:
        return None
    from mmengine.config import DictAction
    namespace = argparse.Namespace()
    DictAction(option_strings=[], dest='opts')(None, namespace, items)
    return namespace.opts


def main(argv: Optional[List[str]] = None) -> Dict:
    """Run the comparison; returns what it wrote to the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--configs',
        nargs='+',
        help='method configs (default: every config that inherits the '
        'protocol)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', help='repeat each method per seed')
    parser.add_argument(
        '--no-direct',
        action='store_true',
        help='skip the direct-transfer row')
    parser.add_argument(
        '--epoch0',
        action='store_true',
        help="add each method's own starting embedding, untrained")
    parser.add_argument(
        '--no-train',
        action='store_true',
        help='only the untrained rows (direct transfer, --epoch0)')
    parser.add_argument(
        '--work-dir', default=str(REPO_ROOT / 'work_dirs' / 'compare'))
    parser.add_argument(
        '--out',
        default=str(REPO_ROOT / 'benchmarks' / 'results' /
                    'compare_methods.json'),
        help='the JSON file; the Markdown table goes beside it (.md)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        help='overrides for every config (key=value, as in tools/train.py)')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='keep the finished runs recorded in --out, run the rest')
    args = parser.parse_args(argv)

    from mmreid_unsup.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    configs = [Path(c) for c in args.configs] if args.configs else (
        protocol_configs())
    if not configs:
        raise SystemExit(f'no config inherits {PROTOCOL} under '
                         f'{REPO_ROOT / "configs"}')
    for path in configs:
        if not path.is_file():
            raise SystemExit(f'--configs: {path} is not a file')
    cfg_options = _parse_cfg_options(args.cfg_options)
    work_root = Path(args.work_dir)
    started = datetime.datetime.now(datetime.timezone.utc)
    commit = git_commit()  # the code this process runs

    out = Path(args.out)
    previous = previous_runs(out, args.cfg_options) if args.resume else {}
    runs: List[Dict] = []

    def save() -> Dict:
        """Write what is finished: an interrupted table keeps its runs."""
        every = in_previous_order(runs, carried, list(previous))
        result = dict(
            started=started.isoformat(timespec='seconds'),
            commit=commit,
            machine=machine(),
            load_average=os.getloadavg()[0],
            cfg_options=args.cfg_options,
            complete=len(runs) == len(jobs),
            rows=table_rows(every, stale_configs),
            runs=every)
        write_results(result, format_table(result['rows']), out)
        return result

    jobs = []  # (kind, config, requested seed, how to run it)
    if not args.no_direct:
        jobs.append(('direct', configs[0], None, lambda p, s: direct_transfer(
            p, work_root / 'direct', cfg_options)))
    for path in configs if args.epoch0 else ():
        jobs.append(('epoch0', path, None, lambda p, s: epoch0(
            p, work_root / f'{p.stem}_epoch0', cfg_options)))
    # Seed by seed, so that an interrupted table has every method's first
    # seed before any method's second.
    for seed in () if args.no_train else (args.seeds or [None]):
        for path in configs:
            jobs.append(('train', path, seed, lambda p, s: train_method(
                p, work_root / (p.stem + ('' if s is None else f'_seed{s}')),
                s, cfg_options)))
    scheduled = {(kind, str(path), seed) for kind, path, seed, _ in jobs}
    carried = [(position, row)
               for position, (key, row) in enumerate(previous.items())
               if key not in scheduled]
    stale_configs = changed_configs([row for _, row in carried])
    result = None
    digests = {path: config_digest(path) for path in configs}
    for kind, path, seed, run in jobs:
        key = (kind, str(path), seed)
        kept = previous.get(key)
        if kept is not None and kept.get('config_digest') == digests[path]:
            row = kept
            print(f'--resume: kept {kind} {path.name} seed {seed} from '
                  f'commit {row.get("commit") or "?"}', flush=True)
        else:
            if kept is not None:
                print(f'--resume: {path.name} changed since its {kind} run '
                      f'of seed {seed}; running it again', flush=True)
            row = dict(run(path, seed), kind=kind, requested_seed=seed,
                       commit=commit, cpu=cpu(),
                       config_digest=digests[path])
            print(json.dumps(row), flush=True)
        runs.append(row)
        result = save()
    return result if result is not None else save()


def in_previous_order(runs: List[Dict], carried: List[Tuple[int, Dict]],
                      previous_keys: List[tuple]) -> List[Dict]:
    """This invocation's runs and the carried-over ones, in the order of
    the earlier file (new runs after it, in the order they ran).

    Args:
        runs (list[dict]): The runs of this invocation.
        carried (list[tuple[int, dict]]): Earlier runs of configs this
            invocation does not list, each with its position in the file.
        previous_keys (list[tuple]): The earlier file's run keys, in order.

    Returns:
        list[dict]: Every run to write.
    """
    position = {key: i for i, key in enumerate(previous_keys)}
    late = len(previous_keys)
    ranked = list(carried) + [
        (position.get((r['kind'], r['config'], r['requested_seed']),
                      late + i), r) for i, r in enumerate(runs)
    ]
    return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


#: Config keys left out of :func:`config_digest`: they choose how a run is
#: driven, not what it trains or measures (code changes are recorded by
#: each run's commit, not by the digest).
DIGEST_IGNORED_KEYS = ('runner_type', )


def config_digest(path: Path) -> str:
    """sha256 of the config as MMEngine merges it (its bases included), so
    that ``--resume`` never keeps a run of a config that changed since;
    :data:`DIGEST_IGNORED_KEYS` are left out."""
    import hashlib

    from mmengine.config import Config
    cfg = Config.fromfile(str(path))
    for key in DIGEST_IGNORED_KEYS:
        cfg.pop(key, None)
    text = cfg.pretty_text
    return hashlib.sha256(text.encode()).hexdigest()


def previous_runs(out: Path,
                  cfg_options: Optional[List[str]]) -> Dict[tuple, Dict]:
    """The finished runs of an earlier invocation that wrote ``out``.

    Args:
        out (Path): Its JSON file (nothing to keep if it does not exist).
        cfg_options (list[str], optional): This invocation's
            ``--cfg-options``; the earlier one must have had the same.

    Returns:
        dict: Each run's row by ``(kind, config, requested seed)``.
    """
    if not out.is_file():
        return {}
    previous = json.loads(out.read_text(encoding='utf-8'))
    if previous.get('cfg_options') != cfg_options:
        raise SystemExit(
            f'--resume: {out} was written with --cfg-options '
            f'{previous.get("cfg_options")}, not {cfg_options}; use another '
            '--out or the same options')
    return {(r['kind'], r['config'], r['requested_seed']): r
            for r in previous.get('runs', [])}


def changed_configs(runs: Sequence[Dict]) -> Set[str]:
    """The configs of finished runs that no longer merge to what they ran
    (or are gone); each config's digest is computed once.

    Args:
        runs (Sequence[dict]): Finished runs (``config``,
            ``config_digest``).

    Returns:
        set[str]: Their ``config`` values that changed since.
    """
    current = {
        config: config_digest(Path(config)) if Path(config).is_file() else None
        for config in {run['config'] for run in runs}
    }
    return {
        run['config']
        for run in runs if current[run['config']] is None
        or current[run['config']] != run.get('config_digest')
    }


def table_rows(runs: Sequence[Dict],
               stale_configs: Iterable[str] = ()) -> List[Dict]:
    """The table's rows: direct transfer first, then for every config (in
    order of first run) its epoch-0 row and its trained runs summarised
    over their seeds (:func:`summarise`); the rows of ``stale_configs``
    (configs changed since their runs) get ``stale=True``."""
    stale_configs = set(stale_configs)
    direct = [r for r in runs if r['kind'] == 'direct']
    by_config: Dict[str, Dict[str, List[Dict]]] = {}
    for run in runs:
        if run['kind'] != 'direct':
            by_config.setdefault(run['config'], {}).setdefault(
                run['kind'], []).append(run)
    rows = list(direct)
    for config, kinds in by_config.items():
        config_rows = list(kinds.get('epoch0', []))
        if 'train' in kinds:
            config_rows.append(summarise(kinds['train']))
        if config in stale_configs:
            config_rows = [dict(row, stale=True) for row in config_rows]
        rows += config_rows
    return rows


if __name__ == '__main__':
    sys.path.insert(0, str(REPO_ROOT))
    main()
