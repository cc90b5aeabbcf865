"""ReIDFlipTTAModel: mean of an image's and its mirror image's features."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmreid_unsup.models import ReIDFlipTTAModel
from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample
from tiny_cluster_contrast import TINY_CONFIG


def tiny_model_cfg():
    cfg = Config.fromfile(str(TINY_CONFIG))
    model = cfg.model.to_dict()
    model['backbone']['init_cfg'] = None
    return model


def batch(images):
    return dict(
        inputs=list(images),
        data_samples=[
            ReIDDataSample(metainfo=dict(pid=i, camid=0, is_query=True))
            for i in range(len(images))
        ])


@pytest.fixture(scope='module')
def tta():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='ReIDFlipTTAModel', module=tiny_model_cfg()))
    return model.eval()


def test_flip_features(tta):
    assert isinstance(tta, ReIDFlipTTAModel)
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (3, 3, 32, 16), generator=gen,
                           dtype=torch.uint8)
    with torch.no_grad():
        samples = tta.test_step(batch(images))
        plain = tta.module.test_step(batch(images))
        mirrored = tta.module.test_step(batch(images.flip(-1)))
    for sample, a, b in zip(samples, plain, mirrored):
        expected = F.normalize(a.feat + b.feat, dim=0)
        torch.testing.assert_close(sample.feat, expected, atol=1e-6, rtol=0)
        assert not torch.allclose(sample.feat, a.feat, atol=1e-3)
    assert [s.pid for s in samples] == [0, 1, 2]
    # A mirror-symmetric image gives its own feature.
    symmetric = torch.cat([images[:1, ..., :8], images[:1, ..., :8].flip(-1)],
                          dim=-1)
    with torch.no_grad():
        got = tta.test_step(batch(symmetric))[0].feat
        own = tta.module.test_step(batch(symmetric))[0].feat
    torch.testing.assert_close(got, own, atol=1e-5, rtol=0)


def test_test_time_aug_views_are_merged(tta):
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (2, 3, 32, 16), generator=gen,
                           dtype=torch.uint8)
    views = [batch(images), batch(images.flip(-1))]
    data = dict(
        inputs=[v['inputs'] for v in views],
        data_samples=[v['data_samples'] for v in views])
    with torch.no_grad():
        merged = tta.test_step(data)
        direct = tta.test_step(batch(images))
    assert len(merged) == 2
    for a, b in zip(merged, direct):
        torch.testing.assert_close(a.feat, b.feat, atol=1e-5, rtol=0)
