import numpy as np
import pytest

from mmreid_unsup.datasets.transforms import RandomCrop


def make_img(h=20, w=10):
    # every pixel unique (no zeros), so a crop can be located exactly
    return (np.arange(h * w * 3).reshape(h, w, 3) % 250 + 1).astype(np.uint8)


def test_crop_without_padding_is_a_window_of_the_input():
    img = make_img()
    np.random.seed(0)
    for _ in range(20):
        out = RandomCrop(size=(8, 4))(dict(img=img.copy()))
        assert out['img'].shape == (8, 4, 3)
        assert out['img_shape'] == (8, 4)
        windows = [(t, left) for t in range(13) for left in range(7)
                   if np.array_equal(img[t:t + 8, left:left + 4], out['img'])]
        assert windows


def test_padding_shifts_image_within_bounds():
    img = make_img()
    crop = RandomCrop(size=(20, 10), padding=3)
    np.random.seed(1)
    offsets = set()
    for _ in range(200):
        out = crop(dict(img=img.copy()))['img']
        assert out.shape == img.shape and out.dtype == np.uint8
        padded = np.pad(img, [(3, 3), (3, 3), (0, 0)])
        match = [(t, left) for t in range(7) for left in range(7)
                 if np.array_equal(padded[t:t + 20, left:left + 10], out)]
        assert len(match) == 1
        offsets.add(match[0])
    # all 7 x 7 placements are reachable, including the extreme ones
    assert (0, 0) in offsets and (6, 6) in offsets and len(offsets) > 40


def test_int_size_and_grayscale():
    out = RandomCrop(size=5, padding=1, pad_val=9)(
        dict(img=np.zeros((6, 6), np.uint8)))
    assert out['img'].shape == (5, 5)


def test_same_seed_same_crop():
    img = make_img()
    crops = []
    for _ in range(2):
        np.random.seed(123)
        crops.append(RandomCrop((8, 4), padding=2)(dict(img=img))['img'])
    np.testing.assert_array_equal(*crops)


def test_too_large_crop():
    with pytest.raises(ValueError, match=r'crop size \(30, 10\) exceeds'):
        RandomCrop(size=(30, 10))(dict(img=make_img()))


@pytest.mark.parametrize('kwargs', [dict(size=0), dict(size=(1, 2, 3)),
                                    dict(size=4, padding=-1)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        RandomCrop(**kwargs)
