"""Random crop after zero padding, the usual re-ID augmentation."""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmreid_unsup.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Pad the image on every side, then crop a window at a random place.

    The same as torchvision's ``RandomCrop(size, padding)`` on an HWC
    ``numpy`` image: with ``padding=10`` and ``size`` equal to the input
    size, the image shifts by up to 10 pixels and the border shows the
    padding value.

    Randomness comes from ``numpy``'s global RNG (``np.random``), like the
    rest of the pipeline (mmcv's ``RandomFlip``), so MMEngine's
    ``randomness=dict(seed=...)`` and its per-worker seeding make it
    reproducible.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        size (int | Sequence[int]): The crop ``(h, w)``; an int for a square.
        padding (int): Pixels added on every side before cropping.
            Defaults to 0.
        pad_val (int | float): The padding value. Defaults to 0.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 padding: int = 0,
                 pad_val: Union[int, float] = 0) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f'RandomCrop: size must be a positive int or '
                             f'(h, w), got {size!r}')
        if padding < 0:
            raise ValueError(
                f'RandomCrop: padding must be >= 0, got {padding}')
        self.padding = padding
        self.pad_val = pad_val

    @cache_randomness
    def _sample_offset(self, max_top: int, max_left: int) -> Tuple[int, int]:
        """Draw the crop's top-left corner, uniform over valid places."""
        return (int(np.random.randint(0, max_top + 1)),
                int(np.random.randint(0, max_left + 1)))

    def transform(self, results: dict) -> dict:
        """Crop ``results['img']``.

        Args:
            results (dict): The pipeline's data.

        Returns:
            dict: ``results`` with the cropped ``img`` and its ``img_shape``.
        """
        img = results['img']
        if self.padding:
            pad = [(self.padding, self.padding)] * 2 + [(0, 0)] * (
                img.ndim - 2)
            img = np.pad(img, pad, constant_values=self.pad_val)
        height, width = img.shape[:2]
        crop_h, crop_w = self.size
        if crop_h > height or crop_w > width:
            raise ValueError(
                f'RandomCrop: crop size {self.size} exceeds the padded image '
                f'({height}, {width}); resize first or lower size')
        top, left = self._sample_offset(height - crop_h, width - crop_w)
        results['img'] = np.ascontiguousarray(
            img[top:top + crop_h, left:left + crop_w])
        results['img_shape'] = (crop_h, crop_w)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'padding={self.padding}, pad_val={self.pad_val})')
