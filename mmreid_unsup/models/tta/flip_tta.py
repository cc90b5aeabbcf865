"""Flip test-time augmentation for re-ID models."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseTTAModel

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample

__all__ = ['ReIDFlipTTAModel', 'flip_averaged_features']


def flip_averaged_features(model: torch.nn.Module,
                           inputs: torch.Tensor) -> torch.Tensor:
    """L2-normalised mean of the features of the images and their mirror
    images.

    Args:
        model (nn.Module): a re-ID model whose ``'tensor'`` mode returns
            L2-normalised features.
        inputs (Tensor): preprocessed images ``(B, 3, H, W)``.

    Returns:
        Tensor: ``(B, D)`` unit rows.
    """
    feats = model(inputs, mode='tensor') + model(
        inputs.flip(-1), mode='tensor')
    return F.normalize(feats, dim=1)


@MODELS.register_module()
class ReIDFlipTTAModel(BaseTTAModel):
    """Wrap a re-ID model so that each test image is described by the mean
    of its own feature and its horizontal mirror's (then L2-normalised).

    The mirror image is made from the preprocessed batch, so the test
    pipeline stays as it is and every image is read once. Enabled by
    ``tools/test.py --tta`` (or ``test_tta = True`` in a config), which
    wraps ``cfg.model`` as ``dict(type='ReIDFlipTTAModel', module=...)``.
    MMEngine loads a checkpoint into the wrapped model.

    A batch made by MMEngine's ``TestTimeAug`` transform (several views per
    image) is also accepted: the views' features are averaged the same way.

    Args:
        module (dict | nn.Module): the re-ID model or its config.
        data_preprocessor (dict | nn.Module, optional): overrides the
            model's. Defaults to None.
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 data_preprocessor: Union[dict, nn.Module, None] = None
                 ) -> None:
        # Build the config here, in this package's registry: the base class
        # would look it up in MMEngine's root registry.
        if isinstance(module, dict):
            module = dict(module)
            if data_preprocessor is not None:
                module['data_preprocessor'] = data_preprocessor
            module = MODELS.build(module)
        super().__init__(module=module)

    def test_step(self,
                  data: Union[dict, tuple, list]) -> List[ReIDDataSample]:
        """Predict features of a batch with flip augmentation.

        Args:
            data (dict): a batch from the dataloader.

        Returns:
            list[ReIDDataSample]: the data samples with ``feat`` set.
        """
        inputs = data['inputs'] if isinstance(data, dict) else data[0]
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(
                inputs[0], (list, tuple)):
            return super().test_step(data)  # TestTimeAug views
        data = self.module.data_preprocessor(data, False)
        feats = flip_averaged_features(self.module, data['inputs'])
        samples = data.get('data_samples') or [
            ReIDDataSample() for _ in range(feats.size(0))
        ]
        for sample, feat in zip(samples, feats):
            sample.feat = feat
        return samples

    def merge_preds(
        self, data_samples_list: Sequence[Sequence[ReIDDataSample]]
    ) -> List[ReIDDataSample]:
        """Average the views' features of each image.

        Args:
            data_samples_list: one list of view predictions per image.

        Returns:
            list[ReIDDataSample]: one prediction per image, whose ``feat``
            is the normalised mean of its views'.
        """
        merged = []
        for views in data_samples_list:
            sample = views[0]
            sample.feat = F.normalize(
                torch.stack([v.feat for v in views]).sum(0), dim=0)
            merged.append(sample)
        return merged
