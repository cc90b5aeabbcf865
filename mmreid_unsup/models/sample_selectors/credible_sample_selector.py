"""Credible samples of each anchor from an instance memory (GSL)."""
from typing import Optional, Sequence

import torch

from mmreid_unsup.ops import centred_on_memory
from mmreid_unsup.registry import MODELS
from mmreid_unsup.utils.bad_features import BadRowMonitor

__all__ = ['CredibleSampleSelector']


def _top_neighbours(queries: torch.Tensor,
                    bank: torch.Tensor,
                    query_indices: torch.Tensor,
                    k: int,
                    camids: Optional[torch.Tensor] = None,
                    camera_penalty: float = 0.0,
                    excluded: Optional[torch.Tensor] = None,
                    cross_camera: bool = False) -> Sequence[torch.Tensor]:
    """The ``k`` nearest entries of each query, its own entry left out.

    Args:
        queries (Tensor): ``(B, D)`` (or ``(B, S, D)``: the similarity is
            then the mean over the ``S`` parts).
        bank (Tensor): ``(N, D)`` (or ``(N, S, D)``).
        query_indices (Tensor): ``(B,)`` each query's own entry.
        k (int): Neighbours per query.
        camids (Tensor, optional): ``(N,)`` cameras of the entries.
        camera_penalty (float): Subtracted from the similarity of entries
            of the query's camera when ranking. Defaults to 0.
        excluded (Tensor, optional): ``(N,)`` bool, entries ranked last
            (similarity ``-inf``); a query that is one ranks every entry
            last (its neighbours are then meaningless).
        cross_camera (bool): Rank the entries of the query's camera last
            too (similarity ``-inf``); needs ``camids``. Defaults to False.

    Returns:
        tuple[Tensor, Tensor]: ``(B, k)`` similarities (without the
        penalty) and entry indices, by decreasing penalised similarity.
    """
    if bank.dim() == 3:
        sims = torch.einsum('bsd,nsd->bn', queries, bank) / bank.shape[1]
    else:
        sims = queries @ bank.t()
    rows = torch.arange(queries.shape[0], device=sims.device)
    sims[rows, query_indices] = float('-inf')
    if excluded is not None and bool(excluded.any()):
        sims[:, excluded] = float('-inf')
        sims[excluded[query_indices]] = float('-inf')
    ranking = sims
    if (camera_penalty or cross_camera) and camids is not None:
        same_cam = camids[query_indices].unsqueeze(1) == camids.unsqueeze(0)
        if cross_camera:
            sims = sims.masked_fill(same_cam, float('-inf'))
            ranking = sims
        if camera_penalty:
            ranking = sims - camera_penalty * same_cam.to(sims.dtype)
    top = ranking.topk(k, dim=1).indices
    return sims.gather(1, top), top


@MODELS.register_module()
class CredibleSampleSelector:
    """GSL's credible samples: the trusted neighbours of each image.

    GSL (Sun, Zhao, Wu, ICIP 2021) "pulls credible samples closer" with a
    memory-based non-parametric classifier; the abstract does not say how
    they are chosen, so the rules are options (``configs/gsl/README.md``).
    Every image ``i`` is represented by its entry ``v_i`` of the global
    instance memory ``V`` ``(N, D)``. Its candidates are its
    ``num_neighbours`` most similar entries (cosine, ``i`` left out); each
    rule of ``rules`` keeps some of them:

    - ``'reciprocal'``: ``j`` is kept when ``i`` is also among the
      ``reciprocal_k`` nearest entries of ``v_j`` (k-reciprocal neighbours);
    - ``'threshold'``: ``j`` is kept when ``v_i . v_j >= threshold``;
    - ``'patch'``: ``j`` is kept when it is also among the ``patch_k``
      nearest entries of ``i`` in a patch memory ``(N, S, Dp)`` (mean cosine
      over the patches): global and patch-level similarity agree.

    With ``camera_penalty > 0`` and the entries' cameras given, every
    ranking above (candidates, reciprocity, patch neighbours) subtracts it
    from the similarity of entries of the image's own camera, so that
    cross-camera neighbours rank higher (SCL's ``lambda_c``); the threshold
    applies to the true similarity. This is a toolbox option, not part of
    the paper's description.

    With ``cross_camera=True`` every ranking above only reads entries of
    other cameras than the image's: credible samples are always another
    camera's view (the requirement of ``PseudoPairLabeler(cross_camera=
    True)``); an image with fewer than ``k`` entries of other cameras gets
    ``-1`` for the rest.

    With ``camera_centering=True`` (this toolbox's camera-aware option, the
    same as every labeler's, :mod:`~mmreid_unsup.ops.camera_centering`)
    every ranking and the threshold read camera-centred memories instead:
    each camera's mean entry (over the good entries) is removed from the
    entries of that camera, and the rows renormalised.

    ``combine='any'`` keeps a candidate that one rule keeps, ``'all'`` one
    that every rule keeps; no rule keeps all the candidates (plain top-k).
    During the first ``warmup_epochs`` epochs no neighbour is credible (each
    image is its own class, as in exemplar learning).

    Memory entries with a NaN or infinite element or of zero norm (in the
    global memory, or the patch memory when a rule reads it) are handled by
    one policy (:mod:`~mmreid_unsup.utils.bad_features`): with
    ``on_bad_features='outlier'`` they are never a candidate, and such an
    image has no credible sample (a row of ``-1``); a warning names the
    rows each time their number changes. ``'error'`` stops instead.

    Selection reads the memory only, never the batch features: the image
    and its augmented copy get the same credible samples, and every rank
    (whose memories are identical) selects for its own batch without
    communication. The selector is stateless and plays the pseudo labeler's
    role for GSL, called per batch by ``GlobalSimilarityHead`` (which builds
    it from ``MODELS``).

    Args:
        num_neighbours (int): Candidates per image ``k``. Defaults to 8.
        rules (Sequence[str]): Any of ``'reciprocal'``, ``'threshold'``,
            ``'patch'``. Defaults to ``('reciprocal', )``.
        combine (str): ``'any'`` or ``'all'``. Defaults to ``'any'``.
        reciprocal_k (int, optional): Neighbourhood of the reciprocity
            check. Defaults to ``num_neighbours``.
        threshold (float): Cosine similarity of the ``'threshold'`` rule.
            Defaults to 0.6.
        patch_k (int, optional): Neighbourhood of the ``'patch'`` rule.
            Defaults to ``num_neighbours``.
        warmup_epochs (int): Epochs ``0 .. warmup_epochs - 1`` select no
            neighbour. Defaults to 0.
        camera_penalty (float): See above. Defaults to 0.
        camera_centering (bool): Select on camera-centred memories, see
            above; needs ``camids``. Defaults to False.
        cross_camera (bool): Only entries of other cameras are candidates
            or neighbours, see above; needs ``camids``. Defaults to False.
        on_bad_features (str): ``'outlier'`` or ``'error'``, see above.
            Defaults to ``'outlier'``.
    """

    known_rules = ('reciprocal', 'threshold', 'patch')
    combines = ('any', 'all')

    def __init__(self,
                 num_neighbours: int = 8,
                 rules: Sequence[str] = ('reciprocal', ),
                 combine: str = 'any',
                 reciprocal_k: Optional[int] = None,
                 threshold: float = 0.6,
                 patch_k: Optional[int] = None,
                 warmup_epochs: int = 0,
                 camera_penalty: float = 0.0,
                 camera_centering: bool = False,
                 cross_camera: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        if num_neighbours < 0:
            raise ValueError('CredibleSampleSelector: num_neighbours must be '
                             f'>= 0, got {num_neighbours}')
        unknown = [r for r in rules if r not in self.known_rules]
        if unknown or isinstance(rules, str):
            raise ValueError(
                f'CredibleSampleSelector: rules must be a list of '
                f'{self.known_rules}, got {rules!r}')
        if combine not in self.combines:
            raise ValueError(f'CredibleSampleSelector: combine must be one of '
                             f'{self.combines}, got {combine!r}')
        for name, value in (('reciprocal_k', reciprocal_k), ('patch_k',
                                                             patch_k)):
            if value is not None and value < 1:
                raise ValueError(f'CredibleSampleSelector: {name} must be >= '
                                 f'1, got {value}')
        if warmup_epochs < 0:
            raise ValueError('CredibleSampleSelector: warmup_epochs must be '
                             f'>= 0, got {warmup_epochs}')
        self.num_neighbours = num_neighbours
        self.rules = tuple(rules)
        self.combine = combine
        self.reciprocal_k = reciprocal_k or num_neighbours
        self.threshold = threshold
        self.patch_k = patch_k or num_neighbours
        self.warmup_epochs = warmup_epochs
        self.camera_penalty = camera_penalty
        self.camera_centering = camera_centering
        self.cross_camera = cross_camera
        self.on_bad_features = on_bad_features
        self.bad_rows = BadRowMonitor(on_bad_features, type(self).__name__)

    @property
    def needs_patch_memory(self) -> bool:
        """Whether the rules read a patch memory."""
        return 'patch' in self.rules

    def in_warmup(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) is a warm-up epoch."""
        return epoch < self.warmup_epochs

    @torch.no_grad()
    def select(self,
               indices: torch.Tensor,
               bank: torch.Tensor,
               epoch: int = 0,
               patch_bank: Optional[torch.Tensor] = None,
               camids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The credible samples of some images.

        Args:
            indices (Tensor): ``(B,)`` the images' memory entries.
            bank (Tensor): ``(N, D)`` the global instance memory.
            epoch (int): The current 0-based epoch (warm-up). Defaults to 0.
            patch_bank (Tensor, optional): ``(N, S, Dp)`` the patch memory,
                required by the ``'patch'`` rule.
            camids (Tensor, optional): ``(N,)`` cameras of the entries, for
                the camera penalty and camera centring (required by the
                latter).

        Returns:
            Tensor: ``(B, 1 + k)`` long entry indices: column 0 each image's
            own entry, then its candidates in decreasing similarity, ``-1``
            where a rule dropped one (``(B, 1)`` during the warm-up).
        """
        num = bank.shape[0]
        indices = indices.to(bank.device).long()
        if indices.numel() and (int(indices.min()) < 0 or
                                int(indices.max()) >= num):
            raise IndexError(
                f'CredibleSampleSelector: indices in [{int(indices.min())}, '
                f'{int(indices.max())}] out of range for a memory of {num} '
                'entries')
        own = indices.unsqueeze(1)
        if self.in_warmup(epoch) or self.num_neighbours == 0:
            return own
        for option in ('camera_centering', 'cross_camera'):
            if camids is None and getattr(self, option):
                raise ValueError(f'CredibleSampleSelector({option}=True) '
                                 'needs the cameras of the memory entries: '
                                 'call select(..., camids=...)')
        if camids is not None:
            camids = torch.as_tensor(camids).to(bank.device)
            if camids.shape != (num, ):
                raise ValueError(
                    f'CredibleSampleSelector: camids of shape '
                    f'{tuple(camids.shape)} for a memory of {num} entries')
        uses_patches = 'patch' in self.rules and patch_bank is not None \
            and patch_bank.shape[0] == num
        bad = self.bad_rows(
            'memory entries', 'they are never a candidate and have no '
            'credible sample', bank,
            *((patch_bank.to(bank.device), ) if uses_patches else ()))
        if self.camera_centering:
            bad = bad.to(bank.device)
            bank, _, gone = centred_on_memory(bank, camids, bad)
            if uses_patches:
                patch_bank, _, patch_gone = centred_on_memory(
                    patch_bank.to(bank.device), camids, bad)
                gone |= patch_gone
            bad = bad | gone
        cams = dict(
            camids=camids,
            camera_penalty=self.camera_penalty,
            excluded=bad,
            cross_camera=self.cross_camera)
        largest_k = max(self.num_neighbours, self.reciprocal_k
                        if 'reciprocal' in self.rules else 0, self.patch_k
                        if 'patch' in self.rules else 0)
        if num - 1 < largest_k:
            raise ValueError(
                f'CredibleSampleSelector: a memory of {num} entries has fewer '
                f'than {largest_k} neighbours besides the image')
        sims, candidates = _top_neighbours(bank[indices], bank, indices,
                                           self.num_neighbours, **cams)
        checks = []
        if 'reciprocal' in self.rules:
            flat = candidates.flatten()
            _, their = _top_neighbours(bank[flat], bank, flat,
                                       self.reciprocal_k, **cams)
            their = their.view(*candidates.shape, self.reciprocal_k)
            checks.append((their == own.unsqueeze(2)).any(2))
        if 'threshold' in self.rules:
            checks.append(sims >= self.threshold)
        if 'patch' in self.rules:
            if patch_bank is None or patch_bank.shape[0] != num:
                got = None if patch_bank is None else tuple(patch_bank.shape)
                raise ValueError(
                    "CredibleSampleSelector: the 'patch' rule needs a patch "
                    f'memory of {num} entries, got {got}')
            patch_bank = patch_bank.to(bank.device)
            _, patch_nbrs = _top_neighbours(patch_bank[indices], patch_bank,
                                            indices, self.patch_k, **cams)
            checks.append(
                (candidates.unsqueeze(2) == patch_nbrs.unsqueeze(1)).any(2))
        # Bad entries fill a candidate list only when too few good ones
        # exist; a bad image's list is meaningless.
        keep = ~(bad[candidates] | bad[indices].unsqueeze(1))
        if self.cross_camera:  # too few entries of other cameras
            keep &= camids[candidates] != camids[indices].unsqueeze(1)
        if checks:
            stacked = torch.stack(checks)
            keep &= stacked.any(0) if self.combine == 'any' else \
                stacked.all(0)
        candidates = candidates.masked_fill(~keep, -1)
        return torch.cat([own, candidates], dim=1)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_neighbours={self.num_neighbours}, '
                f'rules={self.rules}, combine={self.combine!r}, '
                f'reciprocal_k={self.reciprocal_k}, '
                f'threshold={self.threshold}, patch_k={self.patch_k}, '
                f'warmup_epochs={self.warmup_epochs}, '
                f'camera_penalty={self.camera_penalty}, '
                f'camera_centering={self.camera_centering}, '
                f'cross_camera={self.cross_camera})')
