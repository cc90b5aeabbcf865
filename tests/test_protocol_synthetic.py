"""The learning tests' recipe helper keeps a protocol recipe and changes
only its data and schedule."""
from pathlib import Path
from typing import List, Tuple

import pytest
from mmengine.config import Config

from protocol_synthetic import (CLUSTER_CONTRAST_SYNTHETIC_DEMO,
                                PROTOCOL_CONFIGS, protocol_synthetic_cfg,
                                refresh_labeler, resize_pipeline)
from tiny_configs import LOADERS


def _image_sizes(pipeline: List[dict]) -> List[Tuple[int, int]]:
    """(height, width) of every resize and crop, ``MultiView`` views
    included."""
    sizes = []
    for step in pipeline:
        if step['type'] == 'Resize':
            sizes.append(tuple(reversed(step['scale'])))
        elif step['type'] == 'RandomCrop' or step.get(
                'name') == 'RandomResizedCrop':
            sizes.append(tuple(step['size']))
        for view in step.get('views', []):
            sizes += _image_sizes(view)
    return sizes


@pytest.mark.parametrize('method', sorted(PROTOCOL_CONFIGS))
def test_data_and_schedule_change(method, tmp_path):
    cfg = protocol_synthetic_cfg(
        method, tmp_path / 'data', tmp_path / 'work', max_epochs=3,
        iters_per_epoch=7, batch_size=16, img_size=(96, 48))
    for key in LOADERS:
        dataset = cfg[key].dataset
        assert dataset.type == 'SyntheticReID'
        assert dataset.data_root == str(tmp_path / 'data')
        assert cfg[key].num_workers == 0
        sizes = _image_sizes(dataset.pipeline)
        assert sizes and set(sizes) == {(96, 48)}, (key, sizes)
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_dataloader.sampler.batch_size == 16
    assert cfg.train_dataloader.sampler.iters_per_epoch == 7
    assert (cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval) == (3, 3)
    # The model starts from the shared MSMT17 weights, not data/weights.
    checkpoint = Path(cfg.model.backbone.init_cfg.checkpoint)
    assert checkpoint.name == 'osnet_x0_25_msmt17.pth'
    assert 'data/weights' not in str(checkpoint)


def test_labeler_from_replaces_the_whole_labeler(tmp_path):
    cfg = protocol_synthetic_cfg(
        'cluster_contrast', tmp_path, tmp_path, max_epochs=1,
        iters_per_epoch=1, batch_size=16,
        labeler_from=CLUSTER_CONTRAST_SYNTHETIC_DEMO)
    demo = refresh_labeler(
        Config.fromfile(str(CLUSTER_CONTRAST_SYNTHETIC_DEMO)))
    assert dict(refresh_labeler(cfg)) == dict(demo)


def test_refresh_labeler_names_the_config_without_one():
    with pytest.raises(KeyError, match='no ClusterRefreshHook'):
        refresh_labeler(Config.fromfile(str(PROTOCOL_CONFIGS['scl'])))


def test_an_unknown_size_step_is_an_error():
    with pytest.raises(ValueError, match='CenterCrop'):
        resize_pipeline([dict(type='CenterCrop', size=(256, 128))], 64, 32)
