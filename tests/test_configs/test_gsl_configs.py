"""configs/gsl: every config builds a GSL model with its memories' hooks;
the paper recipes carry PAUL's settings; the CUHK03 CPU recipe has the
Cluster-Contrast CPU recipe's budget; the tuned protocol recipe and the
patch-only ablation are the two-branch protocol recipe less one branch."""
from pathlib import Path

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT
from mmreid_unsup.registry import MODELS

GSL_DIR = REPO_ROOT / 'configs' / 'gsl'
CC_CPU = (REPO_ROOT / 'configs' / 'cluster_contrast' /
          'cluster-contrast_r18_1xb64-10e_cuhk03-dev.py')
MARKET = GSL_DIR / 'gsl_r50_1xb84-60e_market1501.py'
DUKE = GSL_DIR / 'gsl_r50_1xb80-60e_dukemtmcreid.py'
PROTOCOL = GSL_DIR / 'gsl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
BOTH_BRANCHES = GSL_DIR / ('gsl-global-and-patch_osnet-x0.25-msmt17-pre_'
                           '1xb64-5e_cuhk03-dev.py')
# One-branch protocol config -> the branches it keeps of BOTH_BRANCHES.
ONE_BRANCH = {
    PROTOCOL.name: ('neck', 'head'),
    'gsl-patch-only_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py':
    ('patch_neck', 'patch_head'),
}
BRANCHES = ('neck', 'head', 'patch_neck', 'patch_head')


def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


def _multi_view(cfg: Config) -> dict:
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline] == ['LoadImageFromFile', 'MultiView']
    return pipeline[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    'path', sorted(GSL_DIR.glob('*.py')), ids=lambda p: p.name)
def test_every_config_builds_a_gsl_model(path):
    cfg = _load(path)
    assert cfg.default_scope == 'mmreid_unsup'
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'GSL'
    assert len(list(model.memories())) >= 1
    assert [h['type'] for h in cfg.custom_hooks] == [
        'InstanceMemoryHook', 'MemoryMomentumHook'
    ]
    loader = cfg.train_dataloader
    assert loader.sampler.type == 'RandomInstanceSampler'
    assert loader.sampler.batch_size == loader.batch_size
    views = _multi_view(cfg)['views']
    assert len(views) == 2 and all(
        v[-1]['type'] == 'PackReIDInputs' for v in views)
    # Both views and the test pipeline give the same input size.
    resize = [t for t in cfg.test_dataloader.dataset.pipeline
              if t['type'] == 'Resize'][0]
    width, height = resize['scale']
    crop = [t for t in views[1] if t.get('name') == 'RandomResizedCrop'][0]
    assert tuple(crop['size']) == (height, width)
    assert (MODELS.build(cfg.model).patch_head is None) == (
        cfg.model.patch_head is None)


def test_paper_recipes_carry_paul_s_settings():
    cfg = _load(MARKET)
    neck, head = cfg.model.patch_neck, cfg.model.patch_head
    assert neck.num_patches == head.num_patches == 6
    assert neck.out_channels == head.feat_dim == 256
    assert neck.generator.hidden_channels == 4096
    assert head.patch_loss == dict(
        type='PedalLoss', scale=15.0, num_neighbours=10, loss_weight=2.0)
    assert head.image_loss.margin == 2.0 and head.image_loss.loss_weight == 1
    assert head.patch_momentum == head.agent_momentum == 0.9
    assert not head.embedding_trainable
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.last_stride == 1
    assert cfg.train_dataloader.batch_size == 42
    assert cfg.train_cfg.max_epochs == 60
    assert cfg.param_scheduler[0]['milestones'] == [50]
    jitter = _multi_view(cfg)['views'][1][0]
    assert (jitter['brightness'], jitter['contrast'], jitter['saturation'],
            jitter['hue']) == (0.2, 0.2, 0.2, 0.1)

    duke = _load(DUKE)
    assert duke.train_dataloader.dataset.type == 'DukeMTMCReID'
    assert duke.test_dataloader.dataset.type == 'DukeMTMCReID'
    assert duke.train_dataloader.batch_size == 40
    assert duke.model.patch_head.patch_loss.scale == 5.0
    duke.model.patch_head.patch_loss.scale = 15.0
    assert duke.model == cfg.model
    assert (duke.train_dataloader.dataset.pipeline ==
            cfg.train_dataloader.dataset.pipeline)


def test_cpu_recipe_matches_cluster_contrast_budget():
    ours = _load(GSL_DIR / 'gsl_r18_1xb64-10e_cuhk03-dev.py')
    theirs = _load(CC_CPU)
    assert ours.model.backbone == theirs.model.backbone
    assert ours.test_dataloader.dataset == theirs.test_dataloader.dataset
    assert ours.train_dataloader.dataset.ann_file == (
        theirs.train_dataloader.dataset.ann_file)
    # 32 images and their copies: 64 images per iteration, as theirs.
    num_views = len(_multi_view(ours)['views'])
    assert ours.train_dataloader.batch_size * num_views == (
        theirs.train_dataloader.batch_size)
    assert ours.train_dataloader.sampler.iters_per_epoch == (
        theirs.train_dataloader.sampler.iters_per_epoch)
    assert ours.train_cfg.max_epochs == theirs.train_cfg.max_epochs
    assert ours.param_scheduler == theirs.param_scheduler
    assert ours.randomness == theirs.randomness
    # View 0 is their augmentation.
    assert _multi_view(ours)['views'][0] == (
        theirs.train_dataloader.dataset.pipeline[1:])


def test_protocol_recipe_keeps_the_protocol_s_augmentation_and_budget():
    cfg = _load(BOTH_BRANCHES)
    protocol = _load(REPO_ROOT / 'configs' / '_base_' / 'protocols' /
                     'cpu_cuhk03-dev_osnet-x0.25-msmt17.py')
    views = _multi_view(cfg)['views']
    assert views[0] == protocol.train_dataloader.dataset.pipeline[1:]
    assert cfg.train_dataloader.batch_size * len(views) == (
        protocol.train_dataloader.batch_size)
    assert cfg.train_dataloader.sampler.iters_per_epoch == (
        protocol.train_dataloader.sampler.iters_per_epoch)
    # The global branch is the protocol's pretrained embedding, and every
    # patch starts from the same weights.
    protocol_neck = protocol.protocol_neck.to_dict()
    protocol_neck.pop('_delete_')
    assert cfg.model.neck == protocol_neck
    embed = cfg.model.patch_neck.patch_embed
    assert embed.type == 'OSNetFCNeck'
    assert embed.init_cfg.checkpoint == protocol.protocol_weights


def test_protocol_recipe_takes_credible_samples_from_other_cameras():
    selector = _load(PROTOCOL).model.head.selector
    assert selector.type == 'CredibleSampleSelector'
    assert (selector.num_neighbours, selector.rules) == (4, [])
    assert selector.camera_centering and selector.cross_camera


def test_protocol_recipe_uses_the_softer_instance_term():
    loss = _load(PROTOCOL).model.head.loss
    assert (loss.temperature, loss.self_weight) == (0.1, 0.5)


@pytest.mark.parametrize('name,kept', sorted(ONE_BRANCH.items()))
def test_one_branch_configs_drop_a_branch_only(name, kept):
    recipe = _load(BOTH_BRANCHES).to_dict()
    ours = _load(GSL_DIR / name).to_dict()
    for key in BRANCHES:
        if key in kept:
            assert ours['model'][key] == recipe['model'][key], key
        else:
            assert ours['model'][key] is None, key
        ours['model'].pop(key)
        recipe['model'].pop(key)
    for cfg in (ours, recipe):
        cfg.pop('_base_', None)
    assert ours == recipe


def test_the_protocol_configs_are_the_documented_ones():
    names = sorted(p.name for p in GSL_DIR.glob('*_cuhk03-dev.py')
                   if 'osnet' in p.name)
    assert names == sorted([BOTH_BRANCHES.name, *ONE_BRANCH])


@pytest.mark.parametrize('name', [BOTH_BRANCHES.name, *sorted(ONE_BRANCH)])
def test_protocol_recipes_freeze_the_patch_generator(name):
    # PAUL's unsupervised stage trains everything but the patch generator
    # (lr 0): the generated patches stay the initial stripes.
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('mmreid_unsup')
    cfg = _load(GSL_DIR / name)
    for part in ('backbone', 'neck'):
        if cfg.model.get(part):
            cfg.model[part].init_cfg = None
    if cfg.model.get('patch_neck'):
        cfg.model.patch_neck.patch_embed.init_cfg = None
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            lr_of[param] = group['lr']
    # PAUL's image-level directions are not trained (not in the optimizer).
    names = {k: p for k, p in model.named_parameters() if p.requires_grad}
    assert set(lr_of) == set(names.values())
    base_lr = cfg.optim_wrapper.optimizer.lr
    frozen = {n for n in names if n.startswith('patch_neck.generator.')}
    assert bool(frozen) == (model.patch_neck is not None)
    for key, param in names.items():
        assert lr_of[param] == (0.0 if key in frozen else base_lr), key
    # One Adam step with gradients everywhere moves nothing of the
    # generator and everything else that has a gradient.
    before = {k: p.detach().clone() for k, p in names.items()}
    for param in names.values():
        param.grad = torch.ones_like(param)
    wrapper.step()
    for key, param in names.items():
        assert torch.equal(param, before[key]) == (key in frozen), key
