"""Contrastive head against a cluster memory (Cluster-Contrast)."""
from typing import Dict, Optional, Union

import torch
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class ClusterContrastHead(BaseModule):
    """Similarities to a memory, turned into a contrastive loss.

    Args:
        memory (dict): Config of the memory, e.g. a ``ClusterMemory``.
        loss (dict): Config of the loss on the memory similarities.
            Defaults to ``InfoNCELoss`` with temperature 0.05.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 memory: dict,
                 loss: dict = dict(type='InfoNCELoss', temperature=0.05),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.memory = MODELS.build(memory)
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Similarities of the features to the memory entries.

        Args:
            feats (Tensor): Shape ``(B, D)``.
            labels (Tensor): Pseudo labels, shape ``(B,)``.

        Returns:
            Tensor: Shape ``(B, C)``.
        """
        return self.memory(feats, labels)

    def loss(self, feats: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the contrastive loss.

        Args:
            feats (Tensor): L2-normalised features, shape ``(B, D)``.
            labels (Tensor): Pseudo labels, shape ``(B,)``, ``-1`` ignored.

        Returns:
            dict[str, Tensor]: ``{'loss_contrast': scalar}``.
        """
        similarities = self(feats, labels)
        return dict(loss_contrast=self.loss_module(similarities, labels))
