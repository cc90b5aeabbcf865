"""Batch, BGR-to-RGB and normalise images for re-ID models."""
from typing import Optional, Sequence, Union

import torch
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

    Multi-view batches (``MultiView`` in the pipeline: ``inputs`` and
    ``data_samples`` collated into one list per view) are flattened first,
    view by view: view 0 of every sample, then view 1, ... A ``(V * B, 3,
    H, W)`` batch comes out, each data sample carrying its ``sample_idx``
    and ``view``.

    Args:
        mean (Sequence[float]): Per-channel mean, RGB, 0-255.
            Defaults to the ImageNet mean.
        std (Sequence[float]): Per-channel std, RGB, 0-255.
            Defaults to the ImageNet std.
        bgr_to_rgb (bool): Swap the channel order first. Defaults to True.
        channels_last (bool): Return the batch in the channels-last memory
            format (same values): convolutions then run on NHWC data
            (oneDNN on CPUs, cuDNN on GPUs) without converting the model's
            weights. Defaults to False.
        **kwargs: Other arguments of
            :class:`mmengine.model.ImgDataPreprocessor` (``pad_size_divisor``,
            ``pad_value``, ``non_blocking``, ...).
    """

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = IMAGENET_MEAN,
                 std: Optional[Sequence[Union[float, int]]] = IMAGENET_STD,
                 bgr_to_rgb: bool = True,
                 channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, **kwargs)
        self.channels_last = channels_last

    @staticmethod
    def flatten_views(data: dict) -> dict:
        """One flat batch from a collated multi-view batch.

        Args:
            data (dict): ``inputs`` as a list of tensors (returned as is) or
                a list of ``V`` per-view sequences of tensors;
                ``data_samples`` likewise.

        Returns:
            dict: ``data`` with ``inputs`` and ``data_samples`` flattened
            view by view.
        """
        inputs = data.get('inputs')
        if not (isinstance(inputs, (list, tuple)) and inputs
                and isinstance(inputs[0], (list, tuple))):
            return data
        samples = data.get('data_samples')
        flat = dict(data, inputs=[img for view in inputs for img in view])
        if samples is not None:
            flat['data_samples'] = [s for view in samples for s in view]
        return flat

    def forward(self, data: dict, training: bool = False) -> dict:
        """Flatten multi-view batches, then preprocess as usual."""
        data = super().forward(self.flatten_views(data), training)
        inputs = data.get('inputs')
        if self.channels_last and torch.is_tensor(inputs) and inputs.dim(
        ) == 4:
            data['inputs'] = inputs.contiguous(
                memory_format=torch.channels_last)
        return data
