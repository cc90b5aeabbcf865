"""Contrastive loss with several weighted positives per anchor (SCL, GSL)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class MultiPositiveMemoryLoss(nn.Module):
    """A weighted sum of cross-entropies, one per positive memory entry.

    Each anchor ``i`` has similarities ``s_i`` to ``K`` memory entries and
    a list of positive columns ``c_0, c_1, ..., c_P`` among them; ``c_0``
    is the anchor's own entry, the others its neighbours (``-1`` pads rows
    with fewer positives). With ``p_i = softmax(s_i / temperature)`` the
    loss of the anchor is::

        l_i = - self_weight * log p_i[c_0]
              - neighbour_weight * sum_{j >= 1} w_ij * log p_i[c_j]

    where the neighbour weights ``w_ij`` sum to one over the row's valid
    neighbours: equal (``'uniform'``) or ``softmax_j(s_ij / tau_w)`` over
    them (``'similarity'``, computed without gradient). The loss is the mean
    of ``l_i`` over anchors with at least one valid positive, times
    ``loss_weight``. Each positive is the target of a softmax over *all*
    ``K`` columns, other positives included.

    SCL (``engine/loss.py``): ``temperature = 0.1`` (logits ``x 10``),
    ``self_weight = lambda_t = 0.5`` and ``neighbour_weight =
    alpha * (1 - lambda_t) = 1.75 * 0.5``, i.e. ``0.875 / 7 = 0.125`` for
    each of the 7 neighbours (the weights sum to 1.375, not 1). A GSL-style
    loss, ``-log p(i) - mean_{j in C(i)} log p(j)`` over the whole memory,
    is ``self_weight = neighbour_weight = 1`` with a variable number of
    neighbours per row.

    Args:
        temperature (float): Softmax temperature. Defaults to 0.1 (SCL).
        self_weight (float): Weight of the anchor's own entry. Defaults to
            0.5 (SCL's ``lambda_t``).
        neighbour_weight (float): Total weight of the neighbours. Defaults
            to 0.875 (SCL's ``alpha * (1 - lambda_t)``).
        neighbour_weighting (str): ``'uniform'`` or ``'similarity'``.
            Defaults to ``'uniform'``.
        weighting_temperature (float): ``tau_w`` of the ``'similarity'``
            weights. Defaults to 0.1.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    weightings = ('uniform', 'similarity')

    def __init__(self,
                 temperature: float = 0.1,
                 self_weight: float = 0.5,
                 neighbour_weight: float = 0.875,
                 neighbour_weighting: str = 'uniform',
                 weighting_temperature: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0 or weighting_temperature <= 0:
            raise ValueError('MultiPositiveMemoryLoss: temperatures must be '
                             f'> 0, got {temperature} and '
                             f'{weighting_temperature}')
        if neighbour_weighting not in self.weightings:
            raise ValueError('MultiPositiveMemoryLoss: neighbour_weighting '
                             f'must be one of {self.weightings}, got '
                             f'{neighbour_weighting!r}')
        self.temperature = temperature
        self.self_weight = self_weight
        self.neighbour_weight = neighbour_weight
        self.neighbour_weighting = neighbour_weighting
        self.weighting_temperature = weighting_temperature
        self.loss_weight = loss_weight

    def positive_weights(self, similarities: torch.Tensor,
                         positives: torch.Tensor) -> torch.Tensor:
        """The weight of each positive column (0 for padding).

        Args:
            similarities (Tensor): ``(B, K)``.
            positives (Tensor): ``(B, 1 + P)`` column indices, ``-1`` = none.

        Returns:
            Tensor: ``(B, 1 + P)`` weights, no gradient.
        """
        valid = positives >= 0
        weights = torch.zeros(
            positives.shape, dtype=similarities.dtype,
            device=similarities.device)
        weights[:, 0] = self.self_weight * valid[:, 0]
        if positives.size(1) == 1:
            return weights
        nbr_valid = valid[:, 1:]
        if self.neighbour_weighting == 'uniform':
            share = nbr_valid.to(weights.dtype)
        else:
            sims = similarities.detach().gather(1, positives[:, 1:].clamp(
                min=0)) / self.weighting_temperature
            share = sims.masked_fill(~nbr_valid, float('-inf')).softmax(1)
            share = share.nan_to_num(0.0)  # rows without a valid neighbour
        total = share.sum(1, keepdim=True).clamp(min=1e-12)
        weights[:, 1:] = self.neighbour_weight * share / total
        return weights

    def forward(self,
                similarities: torch.Tensor,
                positives: torch.Tensor,
                weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            similarities (Tensor): ``(B, K)`` similarities to ``K`` memory
                entries (e.g. ``f . M[candidates]``), no temperature.
            positives (Tensor): ``(B, 1 + P)`` long column indices into the
                ``K`` columns: column 0 the anchor's own entry, then its
                neighbours; ``-1`` marks a missing positive. A ``(1 + P,)``
                vector applies to every row.
            weights (Tensor, optional): ``(B, 1 + P)`` explicit weights,
                replacing :meth:`positive_weights`.

        Returns:
            Tensor: A scalar.
        """
        if similarities.dim() != 2:
            raise ValueError('MultiPositiveMemoryLoss: similarities must be '
                             f'(B, K), got {tuple(similarities.shape)}')
        positives = positives.to(similarities.device).long()
        if positives.dim() == 1:
            positives = positives.expand(similarities.size(0), -1)
        if positives.dim() != 2 or positives.size(0) != similarities.size(0):
            raise ValueError('MultiPositiveMemoryLoss: positives must be '
                             f'(B, 1 + P) for B={similarities.size(0)}, got '
                             f'{tuple(positives.shape)}')
        if positives.numel() and int(positives.max()) >= similarities.size(1):
            raise ValueError(
                f'MultiPositiveMemoryLoss: positive column '
                f'{int(positives.max())} out of range for '
                f'{similarities.size(1)} columns')
        valid = positives >= 0
        if weights is None:
            weights = self.positive_weights(similarities, positives)
        weights = weights.to(similarities.dtype) * valid
        rows = valid.any(1)
        if not bool(rows.any()):
            return similarities.sum() * 0.0
        log_prob = F.log_softmax(similarities / self.temperature, dim=1)
        pos_log_prob = log_prob.gather(1, positives.clamp(min=0))
        per_row = -(weights * pos_log_prob).sum(1)
        return self.loss_weight * per_row[rows].mean()

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'self_weight={self.self_weight}, '
                f'neighbour_weight={self.neighbour_weight}, '
                f'neighbour_weighting={self.neighbour_weighting!r}, '
                f'loss_weight={self.loss_weight}')
