"""TorchVisionTransform: torchvision's v2 transforms on mmcv pipeline
images, in RGB order."""
import numpy as np
import pytest
import torch

from mmreid_unsup.registry import TRANSFORMS


def _img():
    return np.random.RandomState(0).randint(0, 255, (40, 20, 3), np.uint8)


def test_geometric_transform_changes_the_size():
    transform = TRANSFORMS.build(
        dict(
            type='TorchVisionTransform',
            name='RandomResizedCrop',
            size=(32, 16),
            scale=(0.7, 0.95),
            ratio=(0.35, 0.72)))
    out = transform(dict(img=_img()))
    assert out['img'].shape == (32, 16, 3) and out['img'].dtype == np.uint8
    assert out['img_shape'] == (32, 16)


def test_colour_transforms_see_rgb():
    # Grayscale keeps the luminance of the RGB image: 0.299 R + 0.587 G +
    # 0.114 B. A pure-blue BGR pixel (255, 0, 0) must come out near 29.
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0] = 255
    transform = TRANSFORMS.build(
        dict(type='TorchVisionTransform', name='Grayscale',
             num_output_channels=3))
    out = transform(dict(img=img))['img']
    assert abs(int(out[0, 0, 0]) - 29) <= 1
    raw = TRANSFORMS.build(
        dict(type='TorchVisionTransform', name='Grayscale',
             num_output_channels=3, to_rgb=False))
    assert abs(int(raw(dict(img=img))['img'][0, 0, 0]) - 76) <= 1


def test_randomness_follows_torch_seed():
    transform = TRANSFORMS.build(
        dict(type='TorchVisionTransform', name='RandomRotation', degrees=10))
    torch.manual_seed(3)
    a = transform(dict(img=_img()))['img']
    torch.manual_seed(3)
    b = transform(dict(img=_img()))['img']
    assert np.array_equal(a, b)


def test_unknown_transform_is_reported():
    with pytest.raises(ValueError, match="'ColourJitter' is not a transform"):
        TRANSFORMS.build(
            dict(type='TorchVisionTransform', name='ColourJitter'))
