"""configs/gracl: every config builds, and each recipe is its
Cluster-Contrast counterpart with the GRACL head, nothing else changed."""
from pathlib import Path

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT
from mmreid_unsup.registry import MODELS

GRACL_DIR = REPO_ROOT / 'configs' / 'gracl'
CC_DIR = REPO_ROOT / 'configs' / 'cluster_contrast'

# GRACL recipe -> its Cluster-Contrast counterpart.
COUNTERPARTS = {
    'gracl_r50_4xb64-50e_market1501.py':
    'cluster-contrast_r50_4xb64-50e_market1501.py',
    'gracl_r50_4xb64-50e_dukemtmcreid.py':
    'cluster-contrast_r50_4xb64-50e_dukemtmcreid.py',
    'gracl_r50_4xb64-50e_msmt17.py':
    'cluster-contrast_r50_4xb64-50e_msmt17.py',
    'gracl_r18_1xb64-10e_cuhk03-dev.py':
    'cluster-contrast_r18_1xb64-10e_cuhk03-dev.py',
    'gracl_r18_1xb32-10e_synthetic-demo.py':
    'cluster-contrast_r18_1xb32-10e_synthetic-demo.py',
    # The protocol recipe clusters camera-centred features, as camera-centred
    # Cluster-Contrast does (both chosen on held-out validation ids).
    'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py':
    'cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_1xb64-5e_'
    'cuhk03-dev.py',
}
# Ablation -> the recipe it ablates.
RECIPES = {
    'r18': 'gracl_r18_1xb64-10e_cuhk03-dev.py',
    'osnet': 'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
}
# Head ablations.
ABLATIONS = sorted(p.name for p in GRACL_DIR.glob('gracl-*_cuhk03-dev.py'))


def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


def _without_head(cfg: Config) -> dict:
    cfg = cfg.to_dict()
    model = cfg.pop('model')
    model.pop('head')
    model.pop('type')
    cfg.pop('_base_', None)
    return dict(cfg, model=model)


@pytest.mark.parametrize(
    'name', sorted(GRACL_DIR.glob('*.py')), ids=lambda p: p.name)
def test_every_config_builds_a_gracl_model(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmreid_unsup'
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'GRACL'
    neck = cfg.model.neck
    assert model.head.feat_dim == neck.get('out_channels', neck.in_channels)
    assert len(list(model.memories())) >= 1


@pytest.mark.parametrize('gracl,cluster_contrast',
                         sorted(COUNTERPARTS.items()))
def test_recipe_differs_from_cluster_contrast_only_in_the_head(
        gracl, cluster_contrast):
    ours = _load(GRACL_DIR / gracl)
    theirs = _load(CC_DIR / cluster_contrast)
    assert ours.model.type == 'GRACL'
    assert _without_head(ours) == _without_head(theirs)


@pytest.mark.parametrize('ablation', ABLATIONS)
def test_ablation_differs_from_the_recipe_only_in_the_head(ablation):
    backbone = ablation.split('_')[1].split('-')[0]
    recipe = _load(GRACL_DIR / RECIPES[backbone])
    ours = _load(GRACL_DIR / ablation)
    assert _without_head(ours) == _without_head(recipe)
    assert ours.model.head != recipe.model.head


def test_the_ablations_are_the_documented_ones():
    assert ABLATIONS == [
        'gracl-both-proxies_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
        'gracl-centroid-relation_r18_1xb64-10e_cuhk03-dev.py',
        'gracl-centroid-term_r18_1xb64-10e_cuhk03-dev.py',
        'gracl-inter-only_r18_1xb64-10e_cuhk03-dev.py',
        'gracl-intra-only_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
        'gracl-intra-only_r18_1xb64-10e_cuhk03-dev.py',
    ]


def test_the_protocol_ablation_has_the_abstracts_two_modules():
    """The recipe keeps the inter-ID proxies only (chosen on held-out
    validation ids); gracl-both-proxies_ has the model base's two."""
    base = _load(REPO_ROOT / 'configs' / '_base_' / 'models' /
                 'gracl_r50.py').model.head
    recipe = _load(GRACL_DIR / RECIPES['osnet']).model.head
    both = _load(
        GRACL_DIR /
        'gracl-both-proxies_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
    ).model.head
    assert recipe.intra_memory is None
    assert recipe.inter_memory == base.inter_memory
    assert both.intra_memory == base.intra_memory
    assert both.inter_memory == base.inter_memory
