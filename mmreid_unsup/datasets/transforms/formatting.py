"""Pack a pipeline's result for the model."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmreid_unsup.registry import TRANSFORMS
from mmreid_unsup.structures import ReIDDataSample


@TRANSFORMS.register_module()
class PackReIDInputs(BaseTransform):
    """Turn the image into a tensor and the annotations into a data sample.

    The last transform of every pipeline. The image stays uint8 and BGR;
    ``ReIDDataPreprocessor`` converts and normalises whole batches.

    Required keys: ``img`` and ``meta_keys``.

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` copied into the data
            sample's metainfo. Defaults to ``('img_path', 'sample_idx',
            'pid', 'camid', 'is_query')``.

    Returns:
        dict: ``inputs``, the image as a ``(C, H, W)`` uint8 tensor, and
        ``data_samples``, a :class:`ReIDDataSample`.
    """

    META_KEYS = ('img_path', 'sample_idx', 'pid', 'camid', 'is_query')

    def __init__(self, meta_keys: Sequence[str] = META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): The pipeline's data.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        missing = [k for k in ('img', ) + self.meta_keys if k not in results]
        if missing:
            raise KeyError(f'PackReIDInputs: the pipeline result lacks '
                           f'{missing} (it has {sorted(results)})')
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        data_sample = ReIDDataSample(
            metainfo={k: results[k] for k in self.meta_keys})
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
