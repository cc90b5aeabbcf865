"""configs/ppssl: every config builds a PPSSL model with the pair labeler and
the pair sampler; the CUHK03 CPU recipe has the Cluster-Contrast CPU
recipe's backbone, input, budget and seed; each protocol ablation removes
one branch and changes nothing else."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmreid_unsup.registry import MODELS
from tiny_cluster_contrast import REPO_ROOT

PPSSL_DIR = REPO_ROOT / 'configs' / 'ppssl'
CC_CPU = (REPO_ROOT / 'configs' / 'cluster_contrast' /
          'cluster-contrast_r18_1xb64-10e_cuhk03-dev.py')
PROTOCOL = PPSSL_DIR / 'ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
#: Each ablation and the model keys it changes (dotted), with their values.
ABLATIONS = {
    'ppssl-no-intra': {
        'patch_neck.attention': False,
        'head.intra_weight': 0.0
    },
    'ppssl-no-inter': {
        'head.alignment': None,
        'head.inter_weight': 0.0
    },
    'ppssl-no-pairs': {
        'head.pair_start_epoch': 1000
    },
}


def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


@pytest.mark.parametrize(
    'path', sorted(PPSSL_DIR.glob('*.py')), ids=lambda p: p.name)
def test_every_config_builds_a_ppssl_model(path):
    cfg = _load(path)
    assert cfg.default_scope == 'mmreid_unsup'
    cfg.model.backbone.init_cfg = None
    cfg.model.neck.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'PPSSL'
    assert len(list(model.memories())) == 2
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert hooks == ['ClusterRefreshHook', 'MemoryMomentumHook']
    assert cfg.custom_hooks[0].labeler.type == 'PseudoPairLabeler'
    sampler = cfg.train_dataloader.sampler
    assert sampler.type == 'PseudoPairSampler'
    assert sampler.batch_size == cfg.train_dataloader.batch_size
    # Patch sizes agree between the neck, the memory and the alignment.
    head = cfg.model.head
    assert head.patch_memory.num_parts == cfg.model.patch_neck.num_patches
    assert head.patch_memory.feat_dim == cfg.model.patch_neck.patch_channels
    if head.alignment is not None:
        assert head.alignment.num_patches == cfg.model.patch_neck.num_patches
        assert head.alignment.in_channels == cfg.model.patch_neck.in_channels


def test_cpu_recipe_matches_cluster_contrast_budget():
    ours = _load(PPSSL_DIR / 'ppssl_r18_1xb64-10e_cuhk03-dev.py')
    theirs = _load(CC_CPU)
    assert ours.model.backbone == theirs.model.backbone
    assert ours.test_dataloader.dataset == theirs.test_dataloader.dataset
    assert ours.train_dataloader.dataset == theirs.train_dataloader.dataset
    assert ours.train_dataloader.batch_size == (
        theirs.train_dataloader.batch_size)
    assert ours.train_dataloader.sampler.iters_per_epoch == (
        theirs.train_dataloader.sampler.iters_per_epoch)
    assert ours.train_cfg == theirs.train_cfg
    assert ours.optim_wrapper == theirs.optim_wrapper
    assert ours.randomness == theirs.randomness


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_removes_one_branch(name):
    recipe = _load(PROTOCOL).to_dict()
    path = PPSSL_DIR / PROTOCOL.name.replace('ppssl_', f'{name}_')
    ours = _load(path).to_dict()
    for dotted, value in ABLATIONS[name].items():
        *parents, key = dotted.split('.')
        node = ours['model']
        for part in parents:
            node = node[part]
        assert node[key] == value, dotted
        node = recipe['model']
        for part in parents:
            node = node[part]
        node[key] = value
    for cfg in (ours, recipe):
        cfg.pop('_base_', None)
    assert ours == recipe
