"""Per-sample positives and hard negatives from instance memories (SCL)."""
from typing import NamedTuple, Optional

import torch

from mmreid_unsup.ops import centred_on_memory, vanished_rows
from mmreid_unsup.registry import MODELS
from mmreid_unsup.utils.bad_features import BadRowMonitor

__all__ = ['NeighbourSelector', 'NeighbourSelection']


class NeighbourSelection(NamedTuple):
    """The memory entries a batch is contrasted with.

    Attributes:
        positives (Tensor): ``(B, 1 + P)`` memory indices; column 0 is each
            anchor's own entry, the others its selected neighbours
            (``P = 0`` during the warm-up).
        negatives (Tensor): ``(B, M)`` memory indices of the negatives.
    """

    positives: torch.Tensor
    negatives: torch.Tensor

    @property
    def candidates(self) -> torch.Tensor:
        """``(B, 1 + P + M)``: the positives, then the negatives."""
        return torch.cat([self.positives, self.negatives], dim=1)


@MODELS.register_module()
class NeighbourSelector:
    """SCL's pseudo supervision: each anchor's nearest memory entries.

    SCL (Pang et al., ACM TOMM 2022) does not cluster. At every iteration
    each anchor of the batch is compared with *every* training instance held
    in a global memory ``G`` ``(N, Dg)`` and a local (stripe) memory ``L``
    ``(N, S, Dl)``::

        d(i, j) = lambda_g * ||g_i - G_j||^2
                  + (1 - lambda_g) / S * sum_s ||l_is - L_js||^2
                  + lambda_c * [cam_i == cam_j]

    where ``g_i`` and ``l_i`` are the anchor's current (batch) features. The
    camera term makes same-camera entries farther, so cross-camera
    neighbours rank higher. With ``camera_centering=True`` (this toolbox's
    camera-aware option, the same as every labeler's,
    :mod:`~mmreid_unsup.ops.camera_centering`) the distance is
    taken between camera-centred features instead: each camera's mean over
    the memory (per stripe for ``L``) is removed from the memory entries
    and from the anchors of that camera, and the rows renormalised. The
    entries are sorted by increasing distance (ties by the smaller index)
    and the anchor's own entry is removed; with ``cross_camera=True`` the
    entries of the anchor's camera come after every entry of the other
    cameras (an unbeatable ``lambda_c``, the requirement of
    ``CredibleSampleSelector`` and ``PseudoPairLabeler`` of the same name),
    so positives and hard negatives are other cameras' views while there
    are enough of them; the first ``num_positives`` are
    its positives and the next ``num_negatives`` its negatives, the
    adaptively selected hard negatives. The rest of the set is ignored.

    During the first ``warmup_epochs`` epochs the memories are not trusted:
    the only positive is the anchor itself and the negatives are
    ``num_positives + num_negatives`` random other entries, so the number of
    candidates stays the same. As in the reference code one random
    permutation is drawn per batch and shared by its anchors; unlike it, the
    anchor itself is never among its random negatives (the reference's
    ``np.delete`` removes a *position*, not the anchor).

    The selector plays the pseudo labeler's role for SCL, but it is not a
    :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`: it is called per
    batch by ``SCLHead`` (which builds it from ``MODELS``) with the
    memories, not once per epoch by ``ClusterRefreshHook``. It keeps no
    state, so every rank selects for its own batch from its own (identical)
    memories and nothing is broadcast.

    Memory entries with a NaN or infinite element or of zero norm (in the
    global or the local memory), and anchors whose batch features are, are
    handled by one policy (:mod:`~mmreid_unsup.utils.bad_features`):
    with ``on_bad_features='outlier'`` such entries are ranked after every
    other one (never a positive while enough good entries exist), and such
    an anchor's only positive is its own entry (repeated to fill the ``P``
    columns); a warning names the rows each time their number changes.
    ``'error'`` stops instead. The warm-up's random negatives are not
    filtered.

    Args:
        num_positives (int): ``P``, neighbours taken as positives.
            Defaults to 7 (``POSITIVE_NUM``).
        num_negatives (int): ``M``, the following neighbours taken as
            negatives; capped at ``N - P - 1``. Defaults to 500
            (``NEGATIVE_NUM`` in the reference ``configs/test.yml``).
        lambda_g (float): Weight of the global distance; the local one gets
            ``1 - lambda_g``. Defaults to 0.5 (``LAMBDA_G``).
        lambda_c (float): Added to the distance of same-camera entries.
            Defaults to 0.05 (``LAMBDA_C``).
        warmup_epochs (int): Epochs ``0 .. warmup_epochs - 1`` use self-only
            positives and random negatives. Defaults to 3 (the reference's
            ``epoch <= 3`` with 1-based epochs).
        camera_centering (bool): Select on camera-centred features, see
            above. Defaults to False.
        cross_camera (bool): Rank the entries of the anchor's camera after
            those of the other cameras, see above. Defaults to False.
        on_bad_features (str): ``'outlier'`` or ``'error'``, see above.
            Defaults to ``'outlier'``.
    """

    def __init__(self,
                 num_positives: int = 7,
                 num_negatives: int = 500,
                 lambda_g: float = 0.5,
                 lambda_c: float = 0.05,
                 warmup_epochs: int = 3,
                 camera_centering: bool = False,
                 cross_camera: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        if num_positives < 0 or num_negatives < 0:
            raise ValueError('NeighbourSelector: num_positives and '
                             'num_negatives must be >= 0, got '
                             f'{num_positives} and {num_negatives}')
        if not 0.0 <= lambda_g <= 1.0:
            raise ValueError('NeighbourSelector: lambda_g must be in [0, 1], '
                             f'got {lambda_g}')
        if warmup_epochs < 0:
            raise ValueError('NeighbourSelector: warmup_epochs must be >= 0, '
                             f'got {warmup_epochs}')
        self.num_positives = num_positives
        self.num_negatives = num_negatives
        self.lambda_g = lambda_g
        self.lambda_c = lambda_c
        self.warmup_epochs = warmup_epochs
        self.camera_centering = camera_centering
        self.cross_camera = cross_camera
        self.on_bad_features = on_bad_features
        self.bad_rows = BadRowMonitor(on_bad_features, type(self).__name__)

    def in_warmup(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) is a warm-up epoch."""
        return epoch < self.warmup_epochs

    def num_candidates(self, num_instances: int) -> int:
        """Candidates per anchor, ``1 + P + M``, for a memory of that size."""
        return 1 + self.num_positives + self._num_negatives(num_instances)

    def _num_negatives(self, num_instances: int) -> int:
        if num_instances < self.num_positives + 1:
            raise ValueError(
                f'NeighbourSelector: {num_instances} instances cannot give '
                f'{self.num_positives} positives besides the anchor')
        return min(self.num_negatives, num_instances - self.num_positives - 1)

    def distance(self, global_feats: torch.Tensor, local_feats: torch.Tensor,
                 global_bank: torch.Tensor, local_bank: torch.Tensor,
                 query_camids: torch.Tensor,
                 bank_camids: torch.Tensor) -> torch.Tensor:
        """The selection distance of each anchor to each memory entry.

        Args:
            global_feats (Tensor): ``(B, Dg)`` anchor global features.
            local_feats (Tensor): ``(B, S, Dl)`` anchor stripe features.
            global_bank (Tensor): ``(N, Dg)`` global memory.
            local_bank (Tensor): ``(N, S, Dl)`` local memory.
            query_camids (Tensor): ``(B,)`` anchor cameras.
            bank_camids (Tensor): ``(N,)`` cameras of the memory entries.

        Returns:
            Tensor: ``(B, N)`` distances (squared Euclidean mix plus the
            camera term).
        """
        if local_feats.dim() != 3 or local_bank.dim() != 3:
            raise ValueError('NeighbourSelector: local features must be '
                             f'(B, S, Dl) and (N, S, Dl), got '
                             f'{tuple(local_feats.shape)} and '
                             f'{tuple(local_bank.shape)}')
        global_feats = global_feats.to(global_bank.dtype)
        local_feats = local_feats.to(local_bank.dtype)
        dist_g = (global_feats.pow(2).sum(1, keepdim=True) +
                  global_bank.pow(2).sum(1) -
                  2 * global_feats @ global_bank.t())
        num_stripes = local_bank.size(1)
        dist_l = (local_feats.pow(2).sum((1, 2)).unsqueeze(1) +
                  local_bank.pow(2).sum((1, 2)) -
                  2 * torch.einsum('bsd,nsd->bn', local_feats, local_bank))
        weight_l = (1 - self.lambda_g) / num_stripes
        dist = self.lambda_g * dist_g + weight_l * dist_l
        query_camids = query_camids.to(bank_camids.device)
        same_cam = query_camids.unsqueeze(1) == bank_camids
        return dist + self.lambda_c * same_cam.to(dist.dtype)

    @torch.no_grad()
    def select(self,
               global_feats: torch.Tensor,
               local_feats: torch.Tensor,
               indices: torch.Tensor,
               global_bank: torch.Tensor,
               local_bank: torch.Tensor,
               bank_camids: torch.Tensor,
               epoch: int,
               generator: Optional[torch.Generator] = None
               ) -> NeighbourSelection:
        """Positives and negatives of every anchor of a batch.

        Args:
            global_feats (Tensor): ``(B, Dg)`` anchor global features.
            local_feats (Tensor): ``(B, S, Dl)`` anchor stripe features.
            indices (Tensor): ``(B,)`` the anchors' own memory indices
                (their ``sample_idx``).
            global_bank (Tensor): ``(N, Dg)`` global memory.
            local_bank (Tensor): ``(N, S, Dl)`` local memory.
            bank_camids (Tensor): ``(N,)`` cameras of the entries.
            epoch (int): The current (0-based) epoch, for the warm-up.
            generator (torch.Generator, optional): Random source of the
                warm-up negatives. Defaults to the global one.

        Returns:
            NeighbourSelection: ``positives (B, 1 + P)`` (``P = 0`` in the
            warm-up) and ``negatives (B, M)``, indices on the memories'
            device.
        """
        num_instances = global_bank.size(0)
        num_negatives = self._num_negatives(num_instances)
        indices = indices.to(global_bank.device).long()
        bad_entries = self.bad_rows(
            'memory entries', 'they are ranked after every other entry '
            '(never a positive while enough good ones exist)', global_bank,
            local_bank)
        if self.in_warmup(epoch):
            return self._random_selection(indices, num_instances,
                                          self.num_positives + num_negatives,
                                          generator)
        bad_anchors = self.bad_rows(
            'anchor features', 'their only positive is their own entry',
            global_feats, local_feats).to(indices.device)
        if self.camera_centering:
            bad_entries = bad_entries.to(global_bank.device)
            query_camids = bank_camids[indices]
            global_bank, (global_feats, ), global_gone = centred_on_memory(
                global_bank, bank_camids, bad_entries,
                [(global_feats, query_camids)])
            local_bank, (local_feats, ), local_gone = centred_on_memory(
                local_bank, bank_camids, bad_entries,
                [(local_feats, query_camids)])
            bad_entries = bad_entries | global_gone | local_gone
            bad_anchors = bad_anchors | (
                vanished_rows(global_feats)
                | vanished_rows(local_feats)).to(bad_anchors.device)
        dist = self.distance(global_feats, local_feats, global_bank,
                             local_bank, bank_camids[indices], bank_camids)
        if bool(bad_anchors.any()):
            dist[bad_anchors] = 0.0  # then ranked by index
        dist[:, bad_entries.to(dist.device)] = float('inf')
        if self.cross_camera:
            dist = self._other_cameras_first(dist, bank_camids[indices],
                                             bank_camids)
        order = torch.sort(dist, dim=1, stable=True).indices
        not_self = order != indices.unsqueeze(1)
        if not bool((not_self.sum(1) == num_instances - 1).all()):
            raise ValueError('NeighbourSelector: anchor indices out of range '
                             f'for a memory of {num_instances} entries')
        order = order[not_self].view(indices.numel(), num_instances - 1)
        positives = torch.cat(
            [indices.unsqueeze(1), order[:, :self.num_positives]], dim=1)
        positives[bad_anchors] = indices[bad_anchors].unsqueeze(1)
        negatives = order[:, self.num_positives:self.num_positives +
                          num_negatives]
        return NeighbourSelection(positives, negatives)

    @staticmethod
    def _other_cameras_first(dist: torch.Tensor, query_camids: torch.Tensor,
                             bank_camids: torch.Tensor) -> torch.Tensor:
        """``dist`` with every finite same-camera distance moved past the
        largest finite one: the order within each camera group is kept and
        bad entries (``inf``) stay last."""
        finite = torch.isfinite(dist)
        if not bool(finite.any()):
            return dist
        span = dist[finite].max() - dist[finite].min() + 1.0
        same_cam = query_camids.to(bank_camids.device).unsqueeze(1) == \
            bank_camids
        return dist + span * (same_cam & finite).to(dist.dtype)

    @staticmethod
    def _random_selection(indices: torch.Tensor, num_instances: int,
                          num_negatives: int,
                          generator: Optional[torch.Generator]
                          ) -> NeighbourSelection:
        """Self-only positives and one shared random draw of negatives."""
        perm = torch.randperm(num_instances, generator=generator)
        pool = perm[:num_negatives + 1].to(indices.device)
        is_self = pool.unsqueeze(0) == indices.unsqueeze(1)
        # An anchor absent from the pool drops the pool's last entry.
        drop = is_self.clone()
        drop[~is_self.any(1), -1] = True
        negatives = pool.expand_as(drop)[~drop].view(indices.numel(),
                                                     num_negatives)
        return NeighbourSelection(indices.unsqueeze(1), negatives)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_positives={self.num_positives}, '
                f'num_negatives={self.num_negatives}, lambda_g={self.lambda_g}'
                f', lambda_c={self.lambda_c}, '
                f'warmup_epochs={self.warmup_epochs}, '
                f'camera_centering={self.camera_centering}, '
                f'cross_camera={self.cross_camera})')
