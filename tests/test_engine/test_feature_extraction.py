"""extract_dataset_features: dataset order, layouts, the model left as is."""
import pytest
import torch

from mmreid_unsup.engine import build_runner
from mmreid_unsup.engine.feature_extraction import (
    build_extraction_dataloader, extract_dataset_features)
from tiny_cluster_contrast import REPO_ROOT, tiny_cfg


@pytest.fixture(scope='module')
def runner(tiny_synthetic_root, tmp_path_factory):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path_factory.mktemp('extract'))
    cfg.cluster_dataloader.batch_size = 7  # a last batch of another size
    return build_runner(cfg)


def test_features_in_dataset_order_in_both_layouts(runner):
    torch.manual_seed(0)
    model = runner.model
    model.train()
    params = {n: p.stride() for n, p in model.named_parameters()}
    loader = build_extraction_dataloader(runner, None, 'test')
    nchw = extract_dataset_features(
        model, loader, progress=False, channels_last=False)
    nhwc = extract_dataset_features(
        model, loader, progress=False, channels_last=True)

    dataset = loader.dataset
    assert nchw.shape[0] == len(dataset)
    # Row i is sample i, as a one-image forward gives it.
    model.eval()
    with torch.no_grad():
        for i in (0, len(dataset) // 2, len(dataset) - 1):
            data = model.data_preprocessor(
                loader.collate_fn([dataset[i]]), False)
            single = model(data['inputs'], mode='tensor')[0]
            torch.testing.assert_close(nchw[i], single, rtol=1e-4, atol=1e-5)
    cosine = torch.nn.functional.cosine_similarity(nchw, nhwc, dim=1)
    assert cosine.min().item() > 0.99999
    # The weights keep their layout; the mode the caller had comes back.
    model.train()
    extract_dataset_features(model, loader, progress=False)
    assert model.training
    assert {n: p.stride() for n, p in model.named_parameters()} == params


def test_denormal_weights_zeroed_for_the_pass_only(runner):
    """The pass runs with the model's denormal weights zeroed (fast on
    x86) and gives the weights back bit for bit."""
    model = runner.model
    conv = next(m for m in model.modules()
                if isinstance(m, torch.nn.Conv2d) and m.out_channels > 1)
    tiny = torch.finfo(torch.float32).tiny
    with torch.no_grad():
        conv.weight[0] = tiny / 4  # a dead channel, as pretrained ones have
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # What the convolution holds while it runs: its dead channel zeroed
    # during the pass, untouched without the flush.
    dead_channel_zero = []
    handle = conv.register_forward_pre_hook(
        lambda module, _: dead_channel_zero.append(
            bool((module.weight[0] == 0).all())))
    loader = build_extraction_dataloader(runner, None, 'test')
    kept = extract_dataset_features(
        model, loader, progress=False, flush_denormals=False)
    assert dead_channel_zero and not any(dead_channel_zero)
    dead_channel_zero.clear()
    zeroed = extract_dataset_features(model, loader, progress=False)
    handle.remove()
    assert dead_channel_zero and all(dead_channel_zero)
    cosine = torch.nn.functional.cosine_similarity(kept, zeroed, dim=1)
    assert cosine.min().item() > 0.99999
    after = model.state_dict()
    assert bool((conv.weight[0] == tiny / 4).all())
    for key, value in before.items():
        if value.is_floating_point():
            assert torch.equal(value.reshape(-1).view(torch.uint8),
                               after[key].reshape(-1).view(torch.uint8)), key


def _without_init(node):
    """The model config without Pretrained inits (no weights needed)."""
    if isinstance(node, dict):
        return {k: _without_init(v) for k, v in node.items()
                if k != 'init_cfg'}
    if isinstance(node, (list, tuple)):
        return type(node)(_without_init(v) for v in node)
    return node


def _distinct_models():
    """One config per distinct model (without its Pretrained inits) among
    all the configs: the refresh pass feeds every one channels-last."""
    import json

    from mmengine.config import Config
    models = {}
    for path in sorted((REPO_ROOT / 'configs').glob('*/*.py')):
        cfg = Config.fromfile(str(path))
        if 'model' in cfg:
            key = json.dumps(
                _without_init(cfg.model.to_dict()), sort_keys=True,
                default=str)
            models.setdefault(key, path)
    return sorted(models.values())


@pytest.mark.parametrize('path', _distinct_models(), ids=lambda p: p.name)
def test_every_model_takes_channels_last_batches(path):
    """Part-based necks and heads must not assume the NCHW layout (a
    ``.view`` of a channels-last map fails): the refresh pass feeds
    channels-last batches when asked or when the data preprocessor makes
    them."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmreid_unsup.registry import MODELS
    init_default_scope('mmreid_unsup')
    torch.manual_seed(0)
    model_cfg = _without_init(Config.fromfile(str(path)).model.to_dict())
    model = MODELS.build(model_cfg).eval()
    x = torch.randn(2, 3, 128, 64)
    with torch.no_grad():
        nchw = model(x, mode='tensor')
        nhwc = model(
            x.contiguous(memory_format=torch.channels_last), mode='tensor')
    cosine = torch.nn.functional.cosine_similarity(nchw, nhwc, dim=1)
    assert cosine.min().item() > 0.99999
