"""benchmarks/compare_methods.py end to end on a tiny synthetic protocol."""
import json
from pathlib import Path

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script

CONFIGS = REPO_ROOT / 'tests' / 'data' / 'configs'


def compare_methods_script():
    return load_script(REPO_ROOT / 'benchmarks' / 'compare_methods.py',
                       'compare_methods')


def data_root_options(root):
    return [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'cluster_dataloader',
                       'val_dataloader', 'test_dataloader')
    ]


@pytest.mark.slow
def test_two_methods_one_epoch_each(tiny_synthetic_root, tmp_path):
    script = compare_methods_script()
    out = tmp_path / 'compare.json'
    result = script.main([
        '--configs',
        str(CONFIGS / 'tiny_synthetic.py'),
        str(CONFIGS / 'tiny_synthetic_gracl.py'), '--work-dir',
        str(tmp_path / 'runs'), '--out',
        str(out), '--epoch0', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'
    ] + data_root_options(tiny_synthetic_root))

    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    rows = result['rows']
    assert [r['method'] for r in rows] == [
        'direct transfer (no training)', 'ClusterContrast at epoch 0',
        'ClusterContrast', 'GRACL at epoch 0', 'GRACL'
    ]
    # The untrained rows: Cluster-Contrast starts from the direct-transfer
    # model itself; GRACL's head adds nothing to the embedding either.
    for row in (rows[1], rows[3]):
        assert row['mAP'] == pytest.approx(rows[0]['mAP'])
        assert 'train_images_per_s' not in row
    trained = [rows[2], rows[4]]
    for row in rows:
        for key in ('mAP', 'rank1', 'rank5', 'mINP', 'wall_minutes'):
            assert 0 <= row[key] <= 100 or key == 'wall_minutes', (key, row)
        assert row['rank1'] <= row['rank5']
    for row in trained:
        # 8 images x 4 iterations, the ground truth of the synthetic set.
        assert row['train_images_per_s'] > 0
        assert -1 <= row['pseudo_ari'] <= 1 and 0 <= row['pseudo_nmi'] <= 1
        assert row['pseudo_pair_precision'] is None  # cluster labels
        assert row['mAP_std'] == 0 and row['seeds'] == [0]

    table = out.with_suffix('.md').read_text().splitlines()
    assert table[0].startswith('| method | config | seeds | mAP | rank-1 |')
    assert len(table) == 2 + len(rows)
    assert all(line.count('|') == 13 for line in table)
    assert '`tiny_synthetic_gracl.py`' in table[-1]
    assert set(result['machine']['cpu']) == {'model', 'avx512f', 'extensions'}


def test_no_train_gives_the_untrained_rows_only(tiny_synthetic_root,
                                                tmp_path):
    result = compare_methods_script().main([
        '--configs',
        str(CONFIGS / 'tiny_synthetic.py'), '--work-dir',
        str(tmp_path / 'runs'), '--out',
        str(tmp_path / 'compare.json'), '--epoch0', '--no-train',
        '--cfg-options'
    ] + data_root_options(tiny_synthetic_root))
    assert [r['method'] for r in result['rows']] == [
        'direct transfer (no training)', 'ClusterContrast at epoch 0'
    ]
    assert not (tmp_path / 'runs' / 'tiny_synthetic').exists()


def test_seeds_give_mean_and_spread():
    script = compare_methods_script()
    runs = [
        dict(method='M', config='c.py', seed=s, mAP=m, pseudo_ari=None,
             neighbour_stats=dict(pos_precision=p))
        for s, m, p in ((1, 10.0, 0.4), (2, 14.0, 0.6))
    ]
    summary = script.summarise(runs)
    assert summary['seeds'] == [1, 2]
    assert summary['mAP'] == summary['mAP_mean'] == pytest.approx(12.0)
    assert summary['mAP_std'] == pytest.approx(2.0)
    assert summary['pseudo_ari'] is None
    # Statistics that come as a dict are summarised key by key; a method
    # without any (an empty dict) summarises to an empty dict.
    assert summary['neighbour_stats']['pos_precision'] == pytest.approx(0.5)
    assert summary['neighbour_stats']['pos_precision_std'] == pytest.approx(
        0.1)
    for run in runs:
        run['neighbour_stats'] = {}
    assert script.summarise(runs)['neighbour_stats'] == {}
    line = script.format_table([summary]).splitlines()[-1]
    assert '| 1, 2 | 12.00 ± 2.00 |' in line


def test_finds_the_protocol_configs():
    script = compare_methods_script()
    names = {p.name for p in script.protocol_configs()}
    assert 'cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py' \
        in names
    assert 'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py' in names
    assert all('_base_' not in n for n in names)


def test_missing_config_is_a_clear_error(tmp_path):
    script = compare_methods_script()
    with pytest.raises(SystemExit, match='is not a file'):
        script.main(['--configs', str(tmp_path / 'nope.py'), '--no-direct'])


def test_images_of_a_multi_view_batch_are_counted():
    import torch
    script = compare_methods_script()
    img = torch.zeros(3, 4, 2)
    assert script.num_images([img] * 5) == 5
    # MultiView: one tuple per view after pseudo_collate.
    assert script.num_images([(img, ) * 5, (img, ) * 5]) == 10


def fake_training(script, monkeypatch, fail_at=None):
    """Replace the training by a record of its calls; the call numbered
    ``fail_at`` (from 1) raises, as an interrupted table would stop."""
    calls = []

    def train_method(path, work_dir, seed, cfg_options):
        calls.append((path.name, seed))
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        return dict(method=path.stem, config=str(path), seed=seed,
                    mAP=10.0 * seed, rank1=1.0, rank5=2.0, mINP=0.5,
                    pseudo_ari=None, neighbour_stats={}, wall_minutes=1.0)

    monkeypatch.setattr(script, 'train_method', train_method)
    return calls


def test_resume_runs_only_what_an_interrupted_table_lacks(
        tmp_path, monkeypatch):
    script = compare_methods_script()
    a, b = CONFIGS / 'tiny_synthetic.py', CONFIGS / 'tiny_synthetic_gracl.py'
    out = tmp_path / 'seeds.json'
    argv = ['--configs', str(a), str(b), '--no-direct', '--seeds', '1', '2',
            '--work-dir', str(tmp_path), '--out', str(out)]
    first = fake_training(script, monkeypatch, fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        script.main(argv)
    # Seed by seed: every method's first seed before any second one.
    assert first == [('tiny_synthetic.py', 1),
                     ('tiny_synthetic_gracl.py', 1), ('tiny_synthetic.py', 2)]
    kept = json.loads(out.read_text())
    assert not kept['complete'] and len(kept['runs']) == 2
    assert [r['mAP'] for r in kept['rows']] == pytest.approx([10.0, 10.0])
    assert all(r['commit'] == kept['commit'] and r['cpu']['model']
               for r in kept['runs'])

    second = fake_training(script, monkeypatch)
    result = script.main(argv + ['--resume'])
    assert second == [('tiny_synthetic.py', 2),
                      ('tiny_synthetic_gracl.py', 2)]
    assert result['complete'] and len(result['runs']) == 4
    assert result['runs'][:2] == kept['runs']
    assert [r['seeds'] for r in result['rows']] == [[1, 2], [1, 2]]
    assert [r['mAP'] for r in result['rows']] == pytest.approx([15.0, 15.0])
    assert 'cpu' not in result['rows'][0]  # identifies runs, not averaged

    # Without --resume the table starts again; other options are refused.
    third = fake_training(script, monkeypatch)
    with pytest.raises(SystemExit, match='--cfg-options'):
        script.main(argv + ['--resume', '--cfg-options',
                            'train_cfg.max_epochs=1'])
    script.main(argv)
    assert len(third) == 4


def test_resume_carries_over_the_configs_it_does_not_list(
        tmp_path, monkeypatch):
    script = compare_methods_script()
    a, b = CONFIGS / 'tiny_synthetic.py', CONFIGS / 'tiny_synthetic_gracl.py'
    out = tmp_path / 'seeds.json'
    common = ['--no-direct', '--work-dir', str(tmp_path), '--out', str(out)]
    fake_training(script, monkeypatch)
    first = script.main(['--configs', str(a), str(b), '--seeds', '1'] +
                        common)
    # Seed 2 of `a` alone: `b`'s run stays, in its place.
    again = fake_training(script, monkeypatch)
    second = script.main(['--configs', str(a), '--seeds', '1', '2',
                          '--resume'] + common)
    assert again == [('tiny_synthetic.py', 2)]
    assert second['complete']
    assert [(Path(r['config']).name, r['requested_seed'])
            for r in second['runs']] == [('tiny_synthetic.py', 1),
                                         ('tiny_synthetic_gracl.py', 1),
                                         ('tiny_synthetic.py', 2)]
    assert second['runs'][1] == first['runs'][1]
    assert [r['seeds'] for r in second['rows']] == [[1, 2], [1]]
    # Without --resume nothing is carried over.
    fake_training(script, monkeypatch)
    third = script.main(['--configs', str(a), '--seeds', '1'] + common)
    assert [Path(r['config']).name for r in third['runs']] == [
        'tiny_synthetic.py'
    ]


def test_a_carried_config_that_changed_is_marked_stale(tmp_path,
                                                       monkeypatch):
    script = compare_methods_script()
    base = CONFIGS / 'tiny_synthetic.py'
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(f'_base_ = [{str(base)!r}]\n')
    out = tmp_path / 'seeds.json'
    common = ['--no-direct', '--work-dir', str(tmp_path), '--out', str(out),
              '--seeds', '1']
    fake_training(script, monkeypatch)
    script.main(['--configs', str(base), str(leaf)] + common)
    leaf.write_text(leaf.read_text() + 'train_cfg = dict(max_epochs=3)\n')
    # Only `base` is scheduled: `leaf`'s run is carried, and now stale.
    fake_training(script, monkeypatch)
    result = script.main(['--configs', str(base), '--resume'] + common)
    assert [r.get('stale', False) for r in result['rows']] == [False, True]
    table = out.with_suffix('.md').read_text()
    assert table.count('(stale: its config changed since)') == 1
    # Nothing scheduled (no training): every run is carried, none dropped.
    fake_training(script, monkeypatch)
    again = script.main(['--configs', str(base), '--resume', '--no-train'] +
                        common)
    assert len(again['runs']) == 2


def test_resume_runs_a_changed_config_again(tmp_path, monkeypatch):
    script = compare_methods_script()
    leaf = tmp_path / 'leaf.py'
    base = CONFIGS / 'tiny_synthetic.py'
    leaf.write_text(f'_base_ = [{str(base)!r}]\n')
    out = tmp_path / 'seeds.json'
    argv = ['--configs', str(base), str(leaf), '--no-direct', '--seeds', '1',
            '--work-dir', str(tmp_path), '--out', str(out), '--resume']
    fake_training(script, monkeypatch)
    first = script.main(argv)
    assert all(r['config_digest'] for r in first['runs'])
    # Only the leaf changed: only its run is run again.
    leaf.write_text(f'_base_ = [{str(base)!r}]\n'
                    'train_cfg = dict(max_epochs=3)\n')
    again = fake_training(script, monkeypatch)
    second = script.main(argv)
    assert again == [('leaf.py', 1)]
    assert second['runs'][0] == first['runs'][0]
    assert second['runs'][1]['config_digest'] != first['runs'][1][
        'config_digest']
    # How the run is driven is not what it trains: kept.
    leaf.write_text(leaf.read_text() + "runner_type = 'Runner'\n")
    third = fake_training(script, monkeypatch)
    script.main(argv)
    assert third == []
