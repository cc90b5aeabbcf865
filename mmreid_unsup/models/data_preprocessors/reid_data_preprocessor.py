"""Batch, BGR-to-RGB and normalise images for re-ID models."""
from typing import Optional, Sequence, Union

from mmengine.model import ImgDataPreprocessor

from mmreid_unsup.registry import MODELS

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class ReIDDataPreprocessor(ImgDataPreprocessor):
    """MMEngine's image preprocessor with re-ID defaults.

    ``PackReIDInputs`` gives uint8 ``(3, H, W)`` tensors in BGR order (as cv2
    loads them). This preprocessor moves them to the model's device, converts
    BGR to RGB, normalises with the ImageNet mean and std (0-255 scale, RGB
    order) and stacks them into a float ``(B, 3, H, W)`` batch. Data samples
    pass through unchanged.

    Args:
        mean (Sequence[float]): Per-channel mean, RGB, 0-255.
            Defaults to the ImageNet mean.
        std (Sequence[float]): Per-channel std, RGB, 0-255.
            Defaults to the ImageNet std.
        bgr_to_rgb (bool): Swap the channel order first. Defaults to True.
        **kwargs: Other arguments of
            :class:`mmengine.model.ImgDataPreprocessor` (``pad_size_divisor``,
            ``pad_value``, ``non_blocking``, ...).
    """

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = IMAGENET_MEAN,
                 std: Optional[Sequence[Union[float, int]]] = IMAGENET_STD,
                 bgr_to_rgb: bool = True,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, **kwargs)
