"""``tools/model_zoo.py list | info NAME | download NAME``."""

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script
from zoo_test_server import (model_entry, sha256_bytes, tiny_checkpoint_bytes,
                             write_index)

SCRIPT = REPO_ROOT / 'tools' / 'model_zoo.py'
NAME = 'tiny-net'
PATH = '/v1/tiny-net_abc.pth'


def _import_tool():
    return load_script(SCRIPT, 'model_zoo_tool')


tool = _import_tool()


@pytest.fixture
def index(zoo_server, zoo_env, tmp_path, monkeypatch):
    data = tiny_checkpoint_bytes()
    zoo_server.state.files[PATH] = data
    path = write_index(tmp_path / 'zoo', [
        model_entry(NAME, zoo_server.url(PATH), sha256_bytes(data),
                    config='tests/data/configs/tiny_synthetic.py')])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(path))
    return path


def test_list_shipped_index_shows_the_released_models(zoo_env, capsys):
    assert tool.main(['--index', str(REPO_ROOT / 'model-index.yml'),
                      'list']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ['name', 'collection', 'results']
    released = [line for line in lines[1:]
                if line.startswith('osnet-x0.25_msmt17-torchreid ')]
    assert len(released) == 1 and 'mAP 18.88' in released[0]
    assert released[0].rstrip().endswith('in repository')


def test_empty_index_says_nothing_is_released(tmp_path, zoo_env, capsys):
    empty = tmp_path / 'model-index.yml'
    empty.write_text('Import: []\n')
    assert tool.main(['--index', str(empty), 'list']) == 0
    assert 'no checkpoint released yet' in capsys.readouterr().out


def test_list_info_download(index, zoo_env, zoo_server, capsys):
    assert tool.main(['list']) == 0
    out = capsys.readouterr().out
    assert NAME in out and 'Synthetic: mAP 20.5, Rank-1 33.1' in out
    assert out.splitlines()[1].rstrip().endswith('not cached')

    assert tool.main(['info', NAME]) == 0
    out = capsys.readouterr().out
    assert f'Weights: {zoo_server.url(PATH)}' in out
    assert 'tests/data/configs/tiny_synthetic.py' in out
    assert 'Training Resources: 1x CPU' in out
    assert 'query / gallery' in out and 'Cached: no' in out

    assert tool.main(['download', NAME, '--no-progress']) == 0
    out = capsys.readouterr().out
    assert str(zoo_env / 'tiny-net_abc.pth') in out and 'verified' in out
    assert (zoo_env / 'tiny-net_abc.pth').is_file()

    assert tool.main(['info', NAME]) == 0
    assert 'sha256 verified' in capsys.readouterr().out
    assert tool.main(['list']) == 0
    assert capsys.readouterr().out.splitlines()[1].rstrip().endswith(
        ' cached')


def test_errors_exit_1_with_a_message(index, capsys):
    assert tool.main(['info', 'tiny-nett']) == 1
    assert "did you mean 'tiny-net'" in capsys.readouterr().err
    assert tool.main(['download', 'nope']) == 1
    assert 'unknown model zoo name' in capsys.readouterr().err
    assert tool.main(['--index', '/nonexistent/model-index.yml', 'list']) == 1
    assert 'index not found' in capsys.readouterr().err


def _measured(values):
    """A ``measure`` that returns ``values`` and records its calls."""
    calls = []

    def measure(model, config, data_root):
        calls.append((model.name, config, data_root))
        return values

    return measure, calls


def test_verify_compares_every_metric_with_the_metafile(index):
    zoo = tool.load_index(index)
    measure, calls = _measured({'reid/mAP': 20.504, 'reid/rank1': 33.1})
    rows = tool.verify(zoo, [], data_root='/data', measure=measure)
    assert rows == [[NAME, 'mAP', '20.50', '20.50', 'ok'],
                    [NAME, 'Rank-1', '33.10', '33.10', 'ok']]
    assert calls == [(NAME, str(REPO_ROOT / 'tests' / 'data' / 'configs' /
                                'tiny_synthetic.py'), '/data')]
    measure, _ = _measured({'reid/mAP': 20.52, 'reid/rank1': 33.1})
    assert tool.verify(zoo, [NAME], measure=measure)[0][-1] == 'DIFFERS'


def test_verify_exits_1_when_a_number_differs(index, monkeypatch, capsys):
    measure, _ = _measured({'reid/mAP': 19.0, 'reid/rank1': 33.1})
    monkeypatch.setattr(tool, 'measure_with_test_tool', measure)
    assert tool.main(['verify']) == 1
    captured = capsys.readouterr()
    assert f'{NAME}  mAP  20.50  19.00  DIFFERS' in captured.out
    assert 'differ from the metafiles' in captured.err


def test_verify_refuses_metrics_it_cannot_measure(index, tmp_path):
    zoo = tool.load_index(index)
    model = zoo.get(NAME)
    model.results[0].metrics['Rank-20'] = 50.0
    with pytest.raises(ValueError, match=r"\['Rank-20'\] cannot be measured"):
        tool.verify(zoo, [NAME], measure=_measured({})[0])
