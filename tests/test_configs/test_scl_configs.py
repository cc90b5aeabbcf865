"""configs/scl: every config builds an SCL model; the CUHK03 CPU recipe has
the Cluster-Contrast CPU recipe's backbone, input, budget and seed; the
lambda_c ablations change lambda_c only."""
from pathlib import Path

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT
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
