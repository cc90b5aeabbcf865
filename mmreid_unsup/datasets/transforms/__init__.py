"""Data transforms.

mmcv's transforms (``LoadImageFromFile``, ``Resize``, ``RandomFlip``,
``Pad``...) register themselves in MMEngine's root ``TRANSFORMS`` when
``mmcv.transforms`` is imported; importing it here makes them reachable
from configs with ``default_scope='mmreid_unsup'`` (our registry falls back
to its parent).
"""
import mmcv.transforms  # noqa: F401  (registers mmcv's transforms)

from .formatting import PackReIDInputs
from .multi_view import MultiView
from .random_crop import RandomCrop
from .random_erasing import IMAGENET_MEAN_BGR, RandomErasing
from .torchvision_transform import TorchVisionTransform

__all__ = [
    'PackReIDInputs', 'RandomCrop', 'RandomErasing', 'IMAGENET_MEAN_BGR',
    'MultiView', 'TorchVisionTransform'
]
