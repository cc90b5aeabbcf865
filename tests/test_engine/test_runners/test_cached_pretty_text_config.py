"""CachedPrettyTextConfig: MMEngine's pretty_text, formatted once per
content; ReIDRunner holds its config as one."""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

import mmengine.config.config as mmengine_config
from mmreid_unsup.engine import build_runner
from mmreid_unsup.engine.runners import CachedPrettyTextConfig
from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import REPO_ROOT, tiny_cfg

PROTOCOL_CONFIG = (
    REPO_ROOT / 'configs' / 'cluster_contrast' /
    'cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_1xb64-5e_'
    'cuhk03-dev.py')


@pytest.fixture
def format_calls(monkeypatch):
    """Counts the calls of yapf's FormatCode made by Config.pretty_text."""
    calls = []
    real = mmengine_config.FormatCode

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', counting)
    return calls


def test_the_text_is_mmengine_s():
    cfg = Config.fromfile(str(PROTOCOL_CONFIG))
    cached = CachedPrettyTextConfig.of(cfg)
    assert isinstance(cached, CachedPrettyTextConfig)
    assert CachedPrettyTextConfig.of(cached) is cached
    assert cached.pretty_text == cfg.pretty_text
    assert cached.train_cfg.max_epochs == cfg.train_cfg.max_epochs


def test_formatted_once_per_content(format_calls):
    cfg = CachedPrettyTextConfig.of(Config.fromfile(str(PROTOCOL_CONFIG)))
    first = cfg.pretty_text
    assert cfg.pretty_text == first
    assert len(format_calls) == 1
    # Any change is formatted again, and the text says it.
    cfg.train_cfg.max_epochs = 7
    changed = cfg.pretty_text
    assert len(format_calls) == 2
    assert changed != first and 'max_epochs=7' in changed
    assert changed == Config(cfg.to_dict()).pretty_text
    # The change is in the content, not in an attribute of the config.
    assert '_kept_pretty_text' not in cfg.to_dict()


def test_copies_keep_the_class_and_the_text(format_calls):
    cfg = CachedPrettyTextConfig.of(Config.fromfile(str(PROTOCOL_CONFIG)))
    text = cfg.pretty_text
    other = copy.deepcopy(cfg)  # as Runner.__init__ copies its cfg
    assert isinstance(other, CachedPrettyTextConfig)
    assert other.pretty_text == text
    assert len(format_calls) == 1


def test_unformatted_configs_are_left_alone(format_calls):
    cfg = CachedPrettyTextConfig.of(
        Config(dict(a=1), format_python_code=False))
    assert cfg.pretty_text == 'a=1'
    assert not format_calls


def test_the_runner_formats_its_config_once(tiny_synthetic_root, tmp_path,
                                           format_calls):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path,
                   train_cfg=dict(max_epochs=2))
    expected = Config(cfg.to_dict()).pretty_text
    format_calls.clear()
    runner = build_runner(cfg)
    runner.train()
    assert isinstance(runner.cfg, CachedPrettyTextConfig)
    # Logged, dumped twice, stored by RuntimeInfoHook and in both
    # checkpoints: formatted once (MMEngine alone formats it at each).
    assert len(format_calls) == 1
    for epoch in (1, 2):
        meta = safe_torch_load(tmp_path / f'epoch_{epoch}.pth')['meta']
        assert meta['cfg'] == expected
    dumped = Path(runner.log_dir) / 'vis_data' / 'config.py'
    assert dumped.read_text() == expected


def test_a_pickled_config_keeps_the_class_and_the_text(format_calls):
    import pickle
    cfg = CachedPrettyTextConfig.of(Config.fromfile(str(PROTOCOL_CONFIG)))
    text = cfg.pretty_text
    other = pickle.loads(pickle.dumps(cfg))
    assert isinstance(other, CachedPrettyTextConfig)
    assert other.pretty_text == text
    assert other.pretty_text == text
    assert len(format_calls) == 2  # the copy formats once, then keeps it
    assert cfg._format_python_code and other._format_python_code
