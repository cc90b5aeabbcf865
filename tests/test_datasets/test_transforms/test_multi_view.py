"""MultiView: views of one sample in one batch, through collate and the
data preprocessor, for any model."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmreid_unsup.datasets import SyntheticReID
from mmreid_unsup.registry import MODELS, TRANSFORMS

VIEWS = [
    [dict(type='Resize', scale=(16, 32)),
     dict(type='PackReIDInputs')],
    [
        dict(type='Resize', scale=(16, 32)),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PackReIDInputs')
    ],
]
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', views=VIEWS)
]


def test_each_view_runs_its_pipeline_on_a_copy():
    view = TRANSFORMS.build(dict(type='MultiView', views=VIEWS))
    assert view.num_views == 2
    img = np.random.RandomState(0).randint(0, 255, (32, 16, 3), np.uint8)
    out = view(dict(img=img.copy(), img_path='a.jpg', sample_idx=7, pid=3,
                    camid=1, is_query=False))
    first, second = out['inputs']
    assert torch.equal(first, torch.from_numpy(img).permute(2, 0, 1))
    assert torch.equal(second, first.flip(2))  # flipped copy, same source
    metas = [s.metainfo for s in out['data_samples']]
    assert [m['view'] for m in metas] == [0, 1]
    assert all(m['sample_idx'] == 7 and m['pid'] == 3 for m in metas)


def test_a_batch_of_views_reaches_the_model_flat(tiny_synthetic_root):
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        dataset = SyntheticReID(
            data_root=str(tiny_synthetic_root),
            split='train',
            pipeline=PIPELINE)
    batch = pseudo_collate([dataset[i] for i in (4, 9, 2)])
    preprocessor = MODELS.build(dict(type='ReIDDataPreprocessor'))
    data = preprocessor(batch, training=True)
    assert data['inputs'].shape == (6, 3, 32, 16)
    samples = data['data_samples']
    assert [s.sample_idx for s in samples] == [4, 9, 2, 4, 9, 2]
    assert [s.view for s in samples] == [0, 0, 0, 1, 1, 1]
    torch.testing.assert_close(data['inputs'][3], data['inputs'][0].flip(2))


def test_views_must_be_pipelines_ending_with_a_pack():
    with pytest.raises(ValueError, match='list of pipelines'):
        TRANSFORMS.build(dict(type='MultiView', views=VIEWS[0]))
    view = TRANSFORMS.build(
        dict(type='MultiView', views=[[dict(type='Resize', scale=(16, 32))]]))
    with pytest.raises(TypeError, match='PackReIDInputs'):
        view(dict(img=np.zeros((32, 16, 3), np.uint8)))
