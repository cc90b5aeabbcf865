"""Any torchvision image transform in an mmcv pipeline."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmreid_unsup.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TorchVisionTransform(BaseTransform):
    """Apply a ``torchvision.transforms.v2`` transform to ``results['img']``.

    So that a pipeline can use torchvision's colour jitter, rotation or
    resized crop instead of re-implementing them::

        dict(type='TorchVisionTransform', name='ColorJitter',
             brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1)

    The HWC uint8 image (BGR, as ``LoadImageFromFile`` reads it) becomes a
    CHW tensor, in RGB order when ``to_rgb`` (colour transforms such as a
    hue shift assume RGB), and is converted back afterwards. Randomness
    comes from torch's generator, which MMEngine seeds per worker.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        name (str): A class of ``torchvision.transforms.v2``.
        to_rgb (bool): Present the image in RGB order. Defaults to True.
        **kwargs: The transform's arguments.
    """

    def __init__(self, name: str, to_rgb: bool = True, **kwargs) -> None:
        from torchvision.transforms import v2
        cls = getattr(v2, name, None)
        if not (isinstance(cls, type) and issubclass(cls, v2.Transform)):
            raise ValueError(
                f'TorchVisionTransform: {name!r} is not a transform of '
                'torchvision.transforms.v2 (e.g. ColorJitter, '
                'RandomRotation, RandomResizedCrop)')
        self.name = name
        self.to_rgb = to_rgb
        self.kwargs = kwargs
        self.fn = cls(**kwargs)

    def transform(self, results: dict) -> dict:
        """Transform ``results['img']``.

        Args:
            results (dict): The pipeline's data.

        Returns:
            dict: ``results`` with the new ``img`` and ``img_shape``.
        """
        img = results['img']
        if img.ndim != 3 or img.dtype != np.uint8:
            raise ValueError('TorchVisionTransform: expected an HWC uint8 '
                             f'image, got {img.dtype} {img.shape}')
        if self.to_rgb:
            img = img[..., ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
        out = self.fn(tensor).permute(1, 2, 0).numpy()
        if self.to_rgb:
            out = out[..., ::-1]
        results['img'] = np.ascontiguousarray(out)
        results['img_shape'] = out.shape[:2]
        return results

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())
        return f'{type(self).__name__}(name={self.name!r}, {args})'
