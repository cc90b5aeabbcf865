"""The data sample that travels with every image."""
from typing import Optional

import torch
from mmengine.structures import BaseDataElement


class ReIDDataSample(BaseDataElement):
    """Annotations and predictions of one pedestrian crop.

    Meta information (set by the dataset, read-only in the model):

    - ``img_path`` (str): the image file.
    - ``sample_idx`` (int): index of the sample in its dataset. Models look
      pseudo labels up by this index, so labels written after a cluster
      refresh reach the model even with persistent dataloader workers.
    - ``pid`` (int): ground-truth identity; only evaluation and diagnostics
      read it, never a loss of an unsupervised method.
    - ``camid`` (int): camera index.
    - ``is_query`` (bool): for evaluation sets, whether the sample is a query.

    Data fields (set by the model):

    - ``feat`` (Tensor): the L2-normalised embedding, shape ``(D,)``.
    """

    @property
    def feat(self) -> Optional[torch.Tensor]:
        return self._feat if hasattr(self, '_feat') else None

    @feat.setter
    def feat(self, value: torch.Tensor) -> None:
        self.set_field(value, '_feat', dtype=torch.Tensor)

    @feat.deleter
    def feat(self) -> None:
        del self._feat
