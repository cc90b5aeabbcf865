"""One unit retrieval vector from a global embedding and part embeddings."""
import math
from typing import Tuple

import torch


class PartFusion:
    """Concatenate a unit global vector and ``S`` unit part vectors.

    ``fuse`` scales the parts so that the result has unit norm and its dot
    product is the weighted mean of the per-part cosine similarities::

        e = [sqrt(w) * g, sqrt((1 - w) / S) * p_1, ...,
             sqrt((1 - w) / S) * p_S]
        e . e' = w * cos(g, g') + (1 - w) * mean_s cos(p_s, p'_s)

    so the common evaluation protocol (Euclidean / cosine on ``e``) and a
    kNN on ``e`` rank by that mix (SCL, PPSSL).

    Args:
        global_weight (float): ``w`` in ``[0, 1]``.
    """

    def __init__(self, global_weight: float) -> None:
        if not 0.0 <= global_weight <= 1.0:
            raise ValueError('PartFusion: global_weight must be in [0, 1], '
                             f'got {global_weight}')
        self.global_weight = global_weight

    def scales(self, num_parts: int) -> Tuple[float, float]:
        """The factors of the global vector and of each part."""
        return (math.sqrt(self.global_weight),
                math.sqrt((1.0 - self.global_weight) / num_parts))

    def fuse(self, global_feat: torch.Tensor,
             part_feat: torch.Tensor) -> torch.Tensor:
        """The unit-norm retrieval embedding of normalised parts.

        Args:
            global_feat (Tensor): ``(B, Dg)``, unit rows.
            part_feat (Tensor): ``(B, S, Dp)``, unit parts.

        Returns:
            Tensor: ``(B, Dg + S * Dp)``.
        """
        scale_g, scale_p = self.scales(part_feat.size(1))
        return torch.cat(
            [scale_g * global_feat, scale_p * part_feat.flatten(1)], dim=1)

    def split(self, feats: torch.Tensor, global_dim: int,
              num_parts: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Undo :meth:`fuse`.

        A part with weight 0 (``w`` of 0 or 1) cannot be recovered and comes
        back as zeros.

        Args:
            feats (Tensor): ``(N, Dg + S * Dp)`` fused embeddings.
            global_dim (int): ``Dg``.
            num_parts (int): ``S``.

        Returns:
            tuple[Tensor, Tensor]: ``(N, Dg)`` and ``(N, S, Dp)``.
        """
        scale_g, scale_p = self.scales(num_parts)
        global_feat = feats[:, :global_dim]
        part_feat = feats[:, global_dim:].reshape(feats.size(0), num_parts,
                                                  -1)
        global_feat = (global_feat / scale_g if scale_g > 0 else
                       torch.zeros_like(global_feat))
        part_feat = (part_feat / scale_p if scale_p > 0 else
                     torch.zeros_like(part_feat))
        return global_feat, part_feat
