"""Every ``Pretrained`` init of a protocol config really loads its weights.

MMEngine's ``BaseModule.init_weights`` runs a child's own ``init_cfg`` only
when every module between it and the model is a ``BaseModule`` (it calls
``init_weights`` on the children that have one), so a plain
``torch.nn.ModuleList`` in between silently leaves a ``Pretrained`` part
random. These tests build every protocol config, call ``init_weights`` and
compare each part that names ``init_cfg=dict(type='Pretrained', ...)``,
found by walking the built model, with the checkpoint file.
"""
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmreid_unsup.registry import MODELS
from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import REPO_ROOT, shared_dir, with_shared_paths

WEIGHTS = shared_dir() / 'weights' / 'osnet_x0_25_msmt17.pth'
PROTOCOL_CONFIGS = sorted(
    (REPO_ROOT / 'configs').glob('*/*osnet-x0.25-msmt17-pre*.py'))


def _pretrained_cfgs(init_cfg: Any) -> List[dict]:
    """The ``Pretrained`` entries of an ``init_cfg`` (dict or list)."""
    if not init_cfg:
        return []
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [dict(c) for c in cfgs if c.get('type') == 'Pretrained']


def _checkpoint_state(path: str, prefix: str = '') -> Dict[str, torch.Tensor]:
    """The state_dict a ``Pretrained`` init loads from ``path``.

    As MMEngine's ``PretrainedInit`` does: the ``state_dict`` entry if any,
    ``module.`` stripped, and with ``prefix`` only the keys under it, the
    prefix removed. The raw torchreid keys (``conv1.*``, ``fc.*``, see
    ``tools/model_converters/torchreid2mmreid.py``) then match the
    ``OSNet`` backbone and ``OSNetFCNeck`` parameter names directly.
    """
    state = safe_torch_load(path, map_location='cpu')
    state = state.get('state_dict', state)
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    if prefix:
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
    return state


def _pretrained_parts(
        model: torch.nn.Module) -> Iterator[Tuple[str, torch.nn.Module, dict]]:
    """Every (name, module, Pretrained cfg) of a built model."""
    for name, module in model.named_modules():
        for cfg in _pretrained_cfgs(getattr(module, 'init_cfg', None)):
            yield name, module, cfg


def _build_initialised(path: Path) -> Tuple[Config, torch.nn.Module]:
    init_default_scope('mmreid_unsup')
    cfg = Config.fromfile(str(path))
    # WEIGHTS, not data/weights, which a fresh clone has not linked.
    model = MODELS.build(with_shared_paths(cfg.model.to_dict()))
    model.init_weights()
    return cfg, model


def test_the_protocol_configs_are_found():
    names = {p.name for p in PROTOCOL_CONFIGS}
    for method in ('cluster-contrast', 'gracl', 'gsl', 'ppssl', 'scl'):
        assert f'{method}_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py' \
            in names, method
    assert any(n.endswith('_cuhk03-dev-holdout-val.py') for n in names)


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f'{WEIGHTS} not found')
@pytest.mark.parametrize('path', PROTOCOL_CONFIGS, ids=lambda p: p.name)
def test_every_pretrained_part_holds_the_checkpoint(path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    _, model = _build_initialised(path)
    parts = list(_pretrained_parts(model))
    assert parts, f'{path.name}: no part names a Pretrained init_cfg'
    # The backbone's and the global embedding's at least.
    assert {'backbone'} <= {name for name, _, _ in parts}
    for name, module, cfg in parts:
        assert Path(cfg['checkpoint']).name == WEIGHTS.name, (name, cfg)
        state = _checkpoint_state(cfg['checkpoint'], cfg.get('prefix', ''))
        ours = module.state_dict()
        shared = [k for k in ours if k in state]
        assert shared, (f'{path.name}: the checkpoint has nothing for '
                        f'{name or "the model"} ({type(module).__name__})')
        for key in shared:
            assert ours[key].shape == state[key].shape, (name, key)
            assert torch.equal(ours[key], state[key]), (
                f'{path.name}: {name}.{key} is not the checkpoint\'s: its '
                'Pretrained init_cfg did not run')


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f'{WEIGHTS} not found')
def test_gsl_patch_embeddings_start_from_the_msmt17_fc(monkeypatch):
    # The case that was broken: six OSNetFCNeck copies inside PatchNeck.
    monkeypatch.chdir(REPO_ROOT)
    _, model = _build_initialised(
        REPO_ROOT / 'configs' / 'gsl' /
        'gsl-global-and-patch_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py')
    fc = _checkpoint_state(str(WEIGHTS), 'fc.')
    assert len(model.patch_neck.patch_embeds) == 6
    for embed in model.patch_neck.patch_embeds:
        torch.testing.assert_close(
            embed.fc.state_dict(), fc, rtol=0, atol=0)


DEMO_CONFIG = (REPO_ROOT / 'configs' / 'cluster_contrast' /
               'cluster-contrast_osnet-x0.25-msmt17-zoo_1xb32-8e_'
               'synthetic-demo.py')
ZOO_START = (REPO_ROOT / 'model_zoo' / 'checkpoints' /
             'osnet-x0.25_msmt17-torchreid.pth')


def test_the_demo_starts_from_every_weight_of_the_zoo_model(monkeypatch):
    # `make demo` reads no file outside the repository: its start is the
    # zoo entry, loaded part by part (backbone., neck.) by prefix.
    monkeypatch.chdir(REPO_ROOT)
    _, model = _build_initialised(DEMO_CONFIG)
    zoo = _checkpoint_state(str(ZOO_START))
    ours = model.state_dict()
    assert zoo and set(zoo) <= set(ours), set(zoo) - set(ours)
    for key, value in zoo.items():
        assert torch.equal(ours[key], value), key
    assert {k.split('.')[0] for k in ours} - {k.split('.')[0] for k in zoo} \
        <= {'head', 'pseudo_labels'}
