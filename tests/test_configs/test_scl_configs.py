"""configs/scl: every config builds an SCL model; the CUHK03 CPU recipe has
the Cluster-Contrast CPU recipe's backbone, input, budget and seed; the
lambda_c ablations change lambda_c only."""
from pathlib import Path

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT, shared_dir, with_shared_paths
from mmreid_unsup.registry import MODELS

SCL_DIR = REPO_ROOT / 'configs' / 'scl'
CC_CPU = (REPO_ROOT / 'configs' / 'cluster_contrast' /
          'cluster-contrast_r18_1xb64-10e_cuhk03-dev.py')
RECIPE = SCL_DIR / 'scl_r18_1xb64-10e_cuhk03-dev.py'
ABLATIONS = {
    'scl-lc0_r18_1xb64-10e_cuhk03-dev.py': 0.0,
    'scl-lc0.1_r18_1xb64-10e_cuhk03-dev.py': 0.1,
}


def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


@pytest.mark.parametrize(
    'path', sorted(SCL_DIR.glob('*.py')), ids=lambda p: p.name)
def test_every_config_builds_an_scl_model(path):
    cfg = _load(path)
    assert cfg.default_scope == 'mmreid_unsup'
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'SCL'
    assert len(list(model.memories())) == 3
    assert [h['type'] for h in cfg.custom_hooks] == [
        'InstanceMemoryHook', 'MemoryMomentumHook'
    ]
    sampler = cfg.train_dataloader.sampler
    assert sampler.type == 'RandomInstanceSampler'
    assert sampler.batch_size == cfg.train_dataloader.batch_size
    assert [e['type'] for e in cfg.val_evaluator] == [
        'ReIDMetric', 'SCLReIDMetric'
    ]


def test_reference_recipe_values():
    cfg = _load(SCL_DIR / 'scl_r50_1xb8-50e_market1501.py')
    head = cfg.model.head
    assert head.selector == dict(
        type='NeighbourSelector', num_positives=7, num_negatives=500,
        lambda_g=0.5, lambda_c=0.05, warmup_epochs=3)
    assert head.loss.temperature == 0.1
    assert head.loss.self_weight == 0.5
    assert head.loss.neighbour_weight == pytest.approx(1.75 * (1 - 0.5))
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=1e-3, momentum=0.9, nesterov=True, weight_decay=5e-4)
    for name in ('dukemtmcreid', 'msmt17'):
        other = _load(SCL_DIR / f'scl_r50_1xb8-50e_{name}.py')
        assert other.model == cfg.model
        assert other.train_dataloader.dataset.type != 'Market1501'
        assert (other.train_dataloader.dataset.pipeline ==
                cfg.train_dataloader.dataset.pipeline)


def test_cpu_recipe_matches_cluster_contrast_budget():
    ours, theirs = _load(RECIPE), _load(CC_CPU)
    assert ours.model.backbone == theirs.model.backbone
    assert ours.test_dataloader.dataset == theirs.test_dataloader.dataset
    assert ours.train_dataloader.dataset.ann_file == (
        theirs.train_dataloader.dataset.ann_file)
    assert ours.train_dataloader.batch_size == (
        theirs.train_dataloader.batch_size)
    assert ours.train_dataloader.sampler.iters_per_epoch == (
        theirs.train_dataloader.sampler.iters_per_epoch)
    assert ours.train_cfg.max_epochs == theirs.train_cfg.max_epochs
    assert ours.randomness == theirs.randomness


@pytest.mark.parametrize('name,lambda_c', sorted(ABLATIONS.items()))
def test_lambda_c_ablations_change_lambda_c_only(name, lambda_c):
    recipe = _load(RECIPE).to_dict()
    ours = _load(SCL_DIR / name).to_dict()
    assert ours['model']['head']['selector']['lambda_c'] == lambda_c
    assert ours['val_evaluator'][1]['lambda_c'] == lambda_c
    recipe['model']['head']['selector']['lambda_c'] = lambda_c
    recipe['val_evaluator'][1]['lambda_c'] = lambda_c
    recipe['test_evaluator'][1]['lambda_c'] = lambda_c
    for cfg in (ours, recipe):
        cfg.pop('_base_', None)
    assert ours == recipe


PROTOCOL_RECIPE = SCL_DIR / 'scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
PROTOCOL = (REPO_ROOT / 'configs' / '_base_' / 'protocols' /
            'cpu_cuhk03-dev_osnet-x0.25-msmt17.py')
PROTOCOL_ABLATIONS = {
    'scl-lc0_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py': 0.0,
    'scl-lc0.1_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py': 0.1,
}


def _protocol_neck() -> dict:
    neck = _load(PROTOCOL).protocol_neck.to_dict()
    neck.pop('_delete_')
    return neck


def test_protocol_recipe_is_the_protocol_s_model_and_optimizer():
    cfg = _load(PROTOCOL_RECIPE)
    # The global branch is the protocol's pretrained OSNet fc.
    assert cfg.model.neck.global_embed == _protocol_neck()
    assert cfg.model.neck.global_channels == _load(
        PROTOCOL).protocol_feat_dim
    # No warm-up (the reference: 3 of 50 epochs), Adam 3.5e-4 constant as
    # the protocol's other methods.
    assert cfg.model.head.selector.warmup_epochs == 0
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=3.5e-4, weight_decay=5e-4)
    assert cfg.param_scheduler == []
    for other in ('cluster_contrast/cluster-contrast', 'gracl/gracl'):
        theirs = _load(REPO_ROOT / 'configs' / (
            f'{other}_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'))
        assert cfg.optim_wrapper == theirs.optim_wrapper


@pytest.mark.parametrize('name,lambda_c', sorted(PROTOCOL_ABLATIONS.items()))
def test_protocol_lambda_c_ablations_change_lambda_c_only(name, lambda_c):
    recipe = _load(PROTOCOL_RECIPE).to_dict()
    ours = _load(SCL_DIR / name).to_dict()
    assert ours['model']['head']['selector']['lambda_c'] == lambda_c
    recipe['model']['head']['selector']['lambda_c'] = lambda_c
    for cfg in (ours, recipe):
        cfg.pop('_base_', None)
    assert ours == recipe


def test_paper_scale_recipes_keep_the_reference_sgd():
    for path in sorted(SCL_DIR.glob('scl*_r*.py')):
        if 'synthetic' in path.name:
            continue
        assert _load(path).optim_wrapper.optimizer.type == 'SGD', path.name


@pytest.mark.skipif(
    not (shared_dir() / 'weights' / 'osnet_x0_25_msmt17.pth').is_file(),
    reason='the MSMT17 OSNet weights are not available')
def test_protocol_scl_starts_from_the_protocol_s_model():
    # At initialisation SCL's global feature is the plain protocol OSNet's
    # feature (backbone + pretrained fc), for the same input in eval mode.
    import torch
    from mmengine.registry import init_default_scope
    init_default_scope('mmreid_unsup')
    protocol = _load(PROTOCOL)
    backbone = protocol.protocol_backbone.to_dict()
    backbone.pop('_delete_')
    # The weights from shared_dir(), not from the unlinked data/weights.
    plain = MODELS.build(with_shared_paths(
        dict(type='BaseReIDModel', backbone=backbone, neck=_protocol_neck())))
    scl = MODELS.build(with_shared_paths(
        _load(PROTOCOL_RECIPE).model.to_dict()))
    for model in (plain, scl):
        model.init_weights()
        model.eval()
    torch.manual_seed(0)
    inputs = torch.randn(4, 3, 256, 128)
    with torch.no_grad():
        expected = plain.extract_feat(inputs)
        global_feat, _ = scl.extract_parts(inputs)
    torch.testing.assert_close(global_feat, expected)
