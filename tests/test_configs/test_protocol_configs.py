"""The fair CPU protocol: every method config shares everything but the
method, and starts from the MSMT17 OSNet-x0.25."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmreid_unsup.registry import MODELS
from tiny_cluster_contrast import REPO_ROOT, shared_dir, with_shared_paths

PROTOCOL = (REPO_ROOT / 'configs' / '_base_' / 'protocols' /
            'cpu_cuhk03-dev_osnet-x0.25-msmt17.py')
METHOD_CONFIGS = [
    REPO_ROOT / 'configs' / 'cluster_contrast' /
    'cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    REPO_ROOT / 'configs' / 'gracl' /
    'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    REPO_ROOT / 'configs' / 'scl' /
    'scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    REPO_ROOT / 'configs' / 'gsl' /
    'gsl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    REPO_ROOT / 'configs' / 'ppssl' /
    'ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
]
#: Parts of the protocol a method may replace: SCL draws instances, not
#: pseudo identities, and adds its own test distance; GSL draws instances
#: too, each with an augmented copy (32 images + 32 copies: the protocol's
#: 64 per batch); PPSSL draws anchors with their pseudo partners.
METHOD_PARTS = {
    'scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py':
    ('train_dataloader.sampler', 'val_evaluator', 'test_evaluator'),
    'gsl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py':
    ('train_dataloader.sampler', 'train_dataloader.batch_size',
     'train_dataloader.dataset.pipeline'),
    'ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py':
    ('train_dataloader.sampler', ),
}
#: What the protocol fixes: data, input, batch, schedule, seed, evaluation.
PROTOCOL_KEYS = ('train_dataloader', 'cluster_dataloader', 'val_dataloader',
                 'test_dataloader', 'train_cfg', 'param_scheduler',
                 'randomness', 'val_evaluator', 'test_evaluator')
WEIGHTS = shared_dir() / 'weights' / 'osnet_x0_25_msmt17.pth'


@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.name)
def test_only_the_method_differs(path):
    protocol = Config.fromfile(str(PROTOCOL))
    cfg = Config.fromfile(str(path))
    own = METHOD_PARTS.get(path.name, ())
    for part in own:
        if part.startswith('train_dataloader.'):
            *parents, leaf = part.split('.')
            for config in (cfg, protocol):
                for key in parents:
                    config = config[key]
                config.pop(leaf)
    for key in PROTOCOL_KEYS:
        if key not in own:
            assert cfg[key] == protocol[key], key
    assert cfg.model.backbone.type == 'OSNet'
    assert cfg.model.backbone.arch == 'x0_25'
    # The protocol's batch layout (channels-last) for every method.
    assert cfg.model.data_preprocessor == protocol.protocol_data_preprocessor
    if not own:
        assert cfg.model.neck.type == 'OSNetFCNeck'
    assert cfg.model.backbone.init_cfg.checkpoint.endswith(
        'osnet_x0_25_msmt17.pth')
    # The train set has ground truth, so the refresh can log ARI / NMI.
    assert cfg.train_dataloader.dataset.ann_file == 'splits/dev_train.csv'
    assert cfg.val_dataloader.dataset.query_ann_file == 'splits/dev_query.csv'


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f'{WEIGHTS} not found')
@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.name)
def test_starts_from_the_msmt17_osnet(path):
    init_default_scope('mmreid_unsup')
    cfg = Config.fromfile(str(path))
    # Every Pretrained part (GSL's patch embeddings too) reads WEIGHTS,
    # not data/weights, which a fresh clone has not linked.
    model = MODELS.build(with_shared_paths(cfg.model.to_dict()))
    model.init_weights()
    state = torch.load(WEIGHTS, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    ours = model.state_dict()
    for key, value in state.items():
        if key.startswith('classifier.'):
            continue  # MSMT17's identity classifier is not used
        if key.startswith('fc.'):
            if cfg.model.neck.type != 'OSNetFCNeck':
                continue  # SCL's own embedding replaces OSNet's fc
            assert torch.equal(ours['neck.' + key], value), key
        else:
            assert torch.equal(ours['backbone.' + key], value), key


#: Variants that cluster camera-centred features, and their parents.
CAMERA_CENTRED = {
    REPO_ROOT / 'configs' / 'cluster_contrast' /
    ('cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_1xb64-5e_'
     'cuhk03-dev.py'):
    METHOD_CONFIGS[0],
}


@pytest.mark.parametrize(
    'variant', sorted(CAMERA_CENTRED), ids=lambda p: p.name)
def test_camera_centred_variants_change_only_the_labeler(variant):
    cfg = Config.fromfile(str(variant))
    parent = Config.fromfile(str(CAMERA_CENTRED[variant]))
    refresh = cfg.custom_hooks[0]
    assert refresh.type == 'ClusterRefreshHook'
    assert refresh.labeler.pop('camera_centering') is True
    assert cfg.custom_hooks == parent.custom_hooks
    for key in PROTOCOL_KEYS + ('model', 'optim_wrapper'):
        assert cfg[key] == parent[key], key


#: Model-choice variants (held-out training ids as validation) -> parents.
HOLDOUT_VAL = {
    path.with_name(path.name.replace('_cuhk03-dev.py',
                                     '_cuhk03-dev-holdout-val.py')): path
    for path in (METHOD_CONFIGS[0], *CAMERA_CENTRED)
    if 'cluster-contrast' in path.name
}


def test_holdout_val_variants_exist():
    assert len(HOLDOUT_VAL) == 2
    assert all(path.is_file() for path in HOLDOUT_VAL)


@pytest.mark.parametrize('variant', sorted(HOLDOUT_VAL), ids=lambda p: p.name)
def test_holdout_val_variants_validate_on_unseen_training_ids(variant):
    cfg = Config.fromfile(str(variant))
    parent = Config.fromfile(str(HOLDOUT_VAL[variant]))
    train = cfg.train_dataloader.dataset
    assert train.num_holdout_ids == 67
    cluster = cfg.cluster_dataloader.dataset
    assert (cluster.num_holdout_ids, cluster.holdout_seed) == (
        train.num_holdout_ids, train.holdout_seed)
    val = cfg.val_dataloader.dataset
    assert val.split == 'holdout' and val.ann_file == train.ann_file
    assert (val.num_holdout_ids, val.holdout_seed) == (
        train.num_holdout_ids, train.holdout_seed)
    assert not val.query_ann_file and not val.gallery_ann_file
    assert cfg.test_dataloader == cfg.val_dataloader
    for key in ('model', 'optim_wrapper', 'custom_hooks', 'train_cfg',
                'randomness'):
        assert cfg[key] == parent[key], key


def test_the_protocol_runtime_is_the_default_one_but_two_settings():
    """The protocol file holds its own copy of the runtime (so that method
    configs stay two levels deep); it may differ from
    ``configs/_base_/default_runtime.py`` in its logging interval and the
    number of checkpoints kept, nothing else."""
    protocol = Config.fromfile(str(PROTOCOL)).to_dict()
    runtime = Config.fromfile(
        str(REPO_ROOT / 'configs' / '_base_' /
            'default_runtime.py')).to_dict()
    hooks, default = protocol['default_hooks'], runtime['default_hooks']
    assert hooks['logger']['interval'] == 10
    assert hooks['checkpoint']['max_keep_ckpts'] == 1
    hooks['logger']['interval'] = default['logger']['interval']
    hooks['checkpoint']['max_keep_ckpts'] = (
        default['checkpoint']['max_keep_ckpts'])
    for key, value in runtime.items():
        assert protocol.get(key) == value, key
