"""PEDAL: the patch-based discriminative feature learning loss (PAUL)."""
import torch
import torch.nn as nn

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class PedalLoss(nn.Module):
    """Pull each patch towards its nearest entries of a patch memory.

    PAUL's ``Pedal`` (``src/loss/myloss.py``). For patch ``s`` of anchor
    ``i`` (memory entry ``n_i``), with ``d_j`` the squared Euclidean
    distance of the patch feature to entry ``j`` of that patch's memory and
    the anchor's own entry left out::

        l_is = -log( sum_{j in top-k} exp(-scale * d_j)
                     / sum_{j != n_i} exp(-scale * d_j) )

    where top-k are the ``k`` nearest entries. The loss is the mean over
    anchors and patches, times ``loss_weight``. Log-sum-exps replace the
    reference's ``log(sum(exp))``: the same value without overflow.

    Args:
        scale (float): ``scale``. Defaults to 15 (PAUL, Market-1501; 5 for
            DukeMTMC-reID).
        num_neighbours (int): ``k``. Defaults to 10 (PAUL).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 scale: float = 15.0,
                 num_neighbours: int = 10,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f'PedalLoss: scale must be > 0, got {scale}')
        if num_neighbours < 1:
            raise ValueError('PedalLoss: num_neighbours must be >= 1, got '
                             f'{num_neighbours}')
        self.scale = scale
        self.num_neighbours = num_neighbours
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor, bank: torch.Tensor,
                indices: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): ``(B, S, D)`` patch features of the anchors.
            bank (Tensor): ``(N, S, D)`` the patch memory.
            indices (Tensor): ``(B,)`` the anchors' own entries (left out).

        Returns:
            Tensor: A scalar.
        """
        if (feats.dim() != 3 or bank.dim() != 3
                or feats.shape[1:] != bank.shape[1:]):
            raise ValueError(
                'PedalLoss: feats must be (B, S, D) and bank (N, S, D) with '
                f'the same S, D; got {tuple(feats.shape)} and '
                f'{tuple(bank.shape)}')
        num = bank.shape[0]
        if num - 1 < self.num_neighbours:
            raise ValueError(
                f'PedalLoss: {num} memory entries leave fewer than '
                f'num_neighbours={self.num_neighbours} besides the anchor')
        if feats.shape[0] == 0:
            return feats.sum() * 0.0
        indices = indices.to(feats.device).long()
        if int(indices.min()) < 0 or int(indices.max()) >= num:
            raise IndexError(f'PedalLoss: anchor indices out of range for '
                             f'{num} memory entries')
        bank = bank.to(feats)
        # (S, B, N) squared distances, patch by patch.
        sq_feats = feats.pow(2).sum(2).t().unsqueeze(2)
        sq_bank = bank.pow(2).sum(2).t().unsqueeze(1)
        cross = torch.einsum('bsd,nsd->sbn', feats, bank)
        logits = -self.scale * (sq_feats + sq_bank - 2 * cross)
        own = torch.zeros_like(logits, dtype=torch.bool)
        own[:, torch.arange(feats.shape[0], device=feats.device),
            indices] = True
        logits = logits.masked_fill(own, float('-inf'))
        nearest = logits.topk(self.num_neighbours, dim=2).values
        loss = logits.logsumexp(2) - nearest.logsumexp(2)
        return self.loss_weight * loss.mean()

    def extra_repr(self) -> str:
        return (f'scale={self.scale}, num_neighbours={self.num_neighbours}, '
                f'loss_weight={self.loss_weight}')
