"""benchmarks/tune_on_val.py: variants run on the held-out identities only."""
import json

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT, load_script

CC = REPO_ROOT / 'configs' / 'cluster_contrast'
PROTOCOL_CC = (
    CC / 'cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py')


def tune_script():
    return load_script(REPO_ROOT / 'benchmarks' / 'tune_on_val.py',
                       'tune_on_val')


def test_options_give_the_holdout_val_configs_split():
    """The overrides move a protocol config onto exactly the split of the
    hand-written holdout-val leaf config."""
    script = tune_script()
    cfg = Config.fromfile(str(PROTOCOL_CC))
    cfg.merge_from_dict(script.HOLDOUT_VAL_OPTIONS)
    leaf = Config.fromfile(
        str(PROTOCOL_CC.with_name(
            PROTOCOL_CC.name.replace('-dev.py', '-dev-holdout-val.py'))))
    for key in ('train_dataloader', 'cluster_dataloader', 'val_dataloader',
                'test_dataloader'):
        assert cfg[key].dataset == leaf[key].dataset, key


def fake_runs(script, monkeypatch):
    """Replace the training by a record of what each run was given."""
    calls = []

    def train_method(path, work_dir, seed, cfg_options):
        calls.append(dict(work_dir=work_dir, seed=seed, options=cfg_options))
        return dict(method='SCL', config=str(path), seed=seed, mAP=40.0 +
                    len(calls), rank1=41.0, rank5=60.0, mINP=30.0,
                    pseudo_ari=None, pseudo_pair_precision=None,
                    neighbour_stats=dict(pos_precision=0.5,
                                         pos_cross_camera=0.25),
                    wall_minutes=1.0)

    monkeypatch.setattr(script.compare_methods, 'train_method', train_method)
    return calls


def test_every_variant_runs_on_the_validation_split(tmp_path, monkeypatch):
    script = tune_script()
    calls = fake_runs(script, monkeypatch)
    out = tmp_path / 'tune.json'
    result = script.main([
        str(PROTOCOL_CC), '--variant', 'base', '--variant', 'centred',
        'custom_hooks.0.labeler.camera_centering=True', '--seed', '3',
        '--work-dir',
        str(tmp_path), '--out',
        str(out)
    ])
    assert [c['work_dir'].name for c in calls] == ['base', 'centred']
    for call in calls:
        assert call['seed'] == 3
        for key, value in script.HOLDOUT_VAL_OPTIONS.items():
            assert call['options'][key] == value
    assert calls[1]['options'][
        'custom_hooks.0.labeler.camera_centering'] is True
    assert 'custom_hooks.0.labeler.camera_centering' not in calls[0][
        'options']
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert [r['variant'] for r in result['rows']] == ['base', 'centred']
    assert result['split'].startswith('holdout-val')
    assert result['commit']  # the code the variants ran
    assert result['complete']
    table = out.with_suffix('.md').read_text().splitlines()
    assert table[0].startswith('| variant | overrides | val mAP |')
    assert table[3] == ('| centred | `custom_hooks.0.labeler.camera_centering'
                        '=True` | 42.00 | 41.00 | 30.00 | - | 0.500 | 0.250 '
                        '| 1.0 |')


@pytest.mark.parametrize('variants, message', [
    ([['a'], ['a']], 'distinct NAME'),
    ([['k=v']], 'distinct NAME'),
    ([['a', 'val_dataloader.dataset.split=query']], 'changes the data'),
    ([['a', 'train_dataloader.dataset.num_holdout_ids=0']],
     'changes the data'),
    ([['a', 'train_dataloader.dataset.ann_file=splits/dev_query.csv']],
     'changes the data'),
    ([['a', 'custom_hooks.0.dataloader.batch_size=8']],
     'its own dataloader'),
])
def test_bad_variants_are_refused(variants, message, tmp_path, monkeypatch,
                                  capsys):
    script = tune_script()
    calls = fake_runs(script, monkeypatch)
    argv = [str(PROTOCOL_CC), '--out', str(tmp_path / 'x.json')]
    for variant in variants:
        argv += ['--variant', *variant]
    with pytest.raises(SystemExit, match=message):
        script.main(argv)
    assert not calls


def test_a_search_stopped_midway_keeps_its_finished_rows(tmp_path,
                                                         monkeypatch):
    script = tune_script()
    calls = fake_runs(script, monkeypatch)
    finished = script.compare_methods.train_method

    def stop_at_second(path, work_dir, seed, cfg_options):
        if calls:
            raise KeyboardInterrupt  # the machine's time ran out
        return finished(path, work_dir, seed, cfg_options)

    monkeypatch.setattr(script.compare_methods, 'train_method',
                        stop_at_second)
    out = tmp_path / 'tune.json'
    with pytest.raises(KeyboardInterrupt):
        script.main([
            str(PROTOCOL_CC), '--variant', 'a', '--variant', 'b',
            '--work-dir',
            str(tmp_path), '--out',
            str(out)
        ])
    saved = json.loads(out.read_text())
    assert [r['variant'] for r in saved['rows']] == ['a']
    assert saved['complete'] is False
    assert len(out.with_suffix('.md').read_text().splitlines()) == 3


def test_append_keeps_the_earlier_rows(tmp_path, monkeypatch):
    script = tune_script()
    calls = fake_runs(script, monkeypatch)
    out = tmp_path / 'tune.json'
    common = [str(PROTOCOL_CC), '--work-dir', str(tmp_path), '--out',
              str(out)]
    first = script.main(common + ['--variant', 'base'])
    second = script.main(common + [
        '--append', '--variant', 'centred',
        'custom_hooks.0.labeler.camera_centering=True'
    ])
    assert [r['variant'] for r in second['rows']] == ['base', 'centred']
    assert second['rows'][0] == first['rows'][0]
    assert second['complete'] and len(calls) == 2
    assert all(r['commit'] for r in second['rows'])
    with pytest.raises(SystemExit, match=r"already has the variants \['base'"):
        script.main(common + ['--append', '--variant', 'base'])
    other = REPO_ROOT / 'configs' / 'gracl' / (
        'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py')
    with pytest.raises(SystemExit, match='is the search of'):
        script.main([str(other), '--out', str(out), '--append', '--variant',
                     'x'])
    # Without --append the file starts again.
    assert len(script.main(common + ['--variant', 'base'])['rows']) == 1
