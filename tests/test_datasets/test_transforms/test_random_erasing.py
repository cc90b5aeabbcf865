import numpy as np
import pytest

from mmreid_unsup.datasets.transforms import IMAGENET_MEAN_BGR, RandomErasing


def make_img():
    return np.zeros((64, 32, 3), dtype=np.uint8)


def test_prob_one_erases_a_rectangle_with_the_mean():
    np.random.seed(0)
    fill = np.round(IMAGENET_MEAN_BGR).astype(np.uint8)
    for _ in range(20):
        img = make_img()
        out = RandomErasing(prob=1.0)(dict(img=img))['img']
        assert out.dtype == np.uint8 and out.shape == img.shape
        assert not img.any(), 'the input must not be modified in place'
        erased = (out != 0).any(axis=2)
        ys, xs = np.nonzero(erased)
        assert ys.size > 0
        box = out[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        assert (box == fill).all(), 'the erased region is one rectangle'
        area = box.shape[0] * box.shape[1] / (64 * 32)
        assert 0.015 <= area <= 0.45
        assert 0.25 <= box.shape[0] / box.shape[1] <= 4.0


def test_prob_zero_keeps_the_image():
    np.random.seed(0)
    img = make_img()
    for _ in range(20):
        out = RandomErasing(prob=0.0)(dict(img=img))['img']
        assert out is img and not out.any()


def test_probability_is_respected():
    np.random.seed(0)
    erased = sum(
        RandomErasing(prob=0.5)(dict(img=make_img()))['img'].any()
        for _ in range(400))
    assert 150 < erased < 250


def test_custom_fill_and_grayscale():
    np.random.seed(0)
    out = RandomErasing(prob=1.0, fill=(10, 20, 30))(
        dict(img=np.zeros((40, 40), np.uint8)))['img']
    assert set(np.unique(out)) == {0, 20}


@pytest.mark.parametrize('kwargs', [
    dict(prob=1.5),
    dict(area_ratio=(0.5, 0.1)),
    dict(aspect_ratio=(0, 2)),
])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        RandomErasing(**kwargs)
