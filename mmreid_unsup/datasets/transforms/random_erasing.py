"""Random erasing (Zhong et al., AAAI 2020) on uint8 BGR images."""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmreid_unsup.registry import TRANSFORMS

# ImageNet's mean in the 0-255 BGR space of a cv2-loaded image: erased
# pixels become zero after the data preprocessor normalises them.
IMAGENET_MEAN_BGR = (103.53, 116.28, 123.675)


@TRANSFORMS.register_module()
class RandomErasing(BaseTransform):
    """Fill a random rectangle of the image with a constant colour.

    The rectangle's area is a uniform fraction ``area_ratio`` of the image
    and its aspect ratio (h / w) is log-uniform in ``aspect_ratio``; up to
    ``max_attempts`` draws are tried until one fits inside the image,
    otherwise the image is left unchanged. It runs before normalisation, on
    the uint8 BGR image, so the default fill is ImageNet's mean in that space.

    Randomness comes from ``numpy``'s global RNG (``np.random``), so
    MMEngine's ``randomness=dict(seed=...)`` makes it reproducible.

    Required keys: ``img``. Modified keys: ``img``.

    Args:
        prob (float): The probability to erase. Defaults to 0.5.
        area_ratio (Sequence[float]): Range of the erased fraction of the
            area. Defaults to (0.02, 0.4).
        aspect_ratio (Sequence[float]): Range of the rectangle's h / w.
            Defaults to (0.3, 3.33).
        fill (Sequence[float]): The fill colour, one value per channel (BGR).
            Defaults to ImageNet's mean, ``(103.53, 116.28, 123.675)``.
        max_attempts (int): Draws before giving up. Defaults to 100.
    """

    def __init__(self,
                 prob: float = 0.5,
                 area_ratio: Sequence[float] = (0.02, 0.4),
                 aspect_ratio: Sequence[float] = (0.3, 3.33),
                 fill: Sequence[float] = IMAGENET_MEAN_BGR,
                 max_attempts: int = 100) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomErasing: prob must be in [0, 1], got '
                             f'{prob}')
        if not 0 < area_ratio[0] <= area_ratio[1] <= 1:
            raise ValueError('RandomErasing: area_ratio must satisfy '
                             f'0 < low <= high <= 1, got {area_ratio}')
        if not 0 < aspect_ratio[0] <= aspect_ratio[1]:
            raise ValueError('RandomErasing: aspect_ratio must satisfy '
                             f'0 < low <= high, got {aspect_ratio}')
        self.prob = prob
        self.area_ratio = tuple(area_ratio)
        self.aspect_ratio = tuple(aspect_ratio)
        self.fill = tuple(fill)
        self.max_attempts = max_attempts

    @cache_randomness
    def _sample_region(self, height: int,
                       width: int) -> Optional[Tuple[int, int, int, int]]:
        """Draw ``(top, left, h, w)`` of the rectangle, or None to skip."""
        if np.random.rand() >= self.prob:
            return None
        log_low, log_high = map(math.log, self.aspect_ratio)
        for _ in range(self.max_attempts):
            area = height * width * np.random.uniform(*self.area_ratio)
            aspect = math.exp(np.random.uniform(log_low, log_high))
            erase_h = int(round(math.sqrt(area * aspect)))
            erase_w = int(round(math.sqrt(area / aspect)))
            if 0 < erase_h < height and 0 < erase_w < width:
                top = int(np.random.randint(0, height - erase_h + 1))
                left = int(np.random.randint(0, width - erase_w + 1))
                return top, left, erase_h, erase_w
        return None

    def transform(self, results: dict) -> dict:
        """Erase a rectangle of ``results['img']`` with probability ``prob``.

        Args:
            results (dict): The pipeline's data.

        Returns:
            dict: ``results``, its ``img`` a modified copy when erased.
        """
        img = results['img']
        region = self._sample_region(*img.shape[:2])
        if region is None:
            return results
        top, left, erase_h, erase_w = region
        fill = np.asarray(self.fill, dtype=np.float64)
        if img.ndim == 2:
            fill = fill.mean()
        if np.issubdtype(img.dtype, np.integer):
            fill = np.round(fill)
        img = img.copy()
        img[top:top + erase_h, left:left + erase_w] = fill
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'area_ratio={self.area_ratio}, '
                f'aspect_ratio={self.aspect_ratio}, fill={self.fill})')
