"""InfoNCE: cross-entropy over temperature-scaled similarities."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """``-log softmax(s / tau)[y]``, averaged over the labelled samples.

    Samples with label ``-1`` (outliers) are ignored. When no sample is
    labelled the loss is a zero that still depends on the similarities, so
    the backward pass and DDP's gradient reduction run as usual.

    Args:
        temperature (float): ``tau``. Defaults to 0.05 (Cluster-Contrast).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 temperature: float = 0.05,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(
                f'InfoNCELoss: temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, similarities: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            similarities (Tensor): Shape ``(B, C)``, e.g. cosine similarities
                to ``C`` memory entries.
            labels (Tensor): Shape ``(B,)``, index of the positive entry or
                ``-1``.

        Returns:
            Tensor: A scalar.
        """
        valid = labels >= 0
        if not bool(valid.any()):
            return similarities.sum() * 0.0
        logits = similarities[valid] / self.temperature
        loss = F.cross_entropy(logits, labels[valid])
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'loss_weight={self.loss_weight}')
