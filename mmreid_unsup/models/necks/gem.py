"""Generalized-mean (GeM) pooling."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class GeneralizedMeanPooling(nn.Module):
    """Generalized-mean pooling over the spatial dimensions.

    ``f_c = (mean_{h,w} clamp(x_chw, eps) ** p) ** (1 / p)``: ``p = 1`` is
    average pooling and ``p -> inf`` tends to max pooling. ``p`` is learned
    by default, initialised to 3 (Cluster-Contrast's
    ``GeneralizedMeanPoolingP``).

    Args:
        p (float): Initial exponent. Defaults to 3.
        eps (float): Lower clamp of the input, keeps ``x ** p`` defined.
            Defaults to 1e-6.
        trainable (bool): Learn ``p``. Defaults to True.
    """

    def __init__(self,
                 p: float = 3.0,
                 eps: float = 1e-6,
                 trainable: bool = True) -> None:
        super().__init__()
        if p <= 0:
            raise ValueError(f'GeneralizedMeanPooling: p must be > 0, got {p}')
        self.p = nn.Parameter(torch.tensor(float(p)), requires_grad=trainable)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool a feature map.

        Args:
            x (Tensor): Shape ``(B, C, H, W)``.

        Returns:
            Tensor: Shape ``(B, C)``.
        """
        pooled = F.adaptive_avg_pool2d(x.clamp(min=self.eps).pow(self.p), 1)
        return pooled.pow(1.0 / self.p).flatten(1)

    def extra_repr(self) -> str:
        return f'p={self.p.item():.4f}, eps={self.eps}'
