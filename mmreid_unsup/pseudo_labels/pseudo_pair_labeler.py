"""PPSSL's pseudo pairs: each image's partners by similarity separation."""
from typing import Optional

import numpy as np
import torch

from mmreid_unsup.ops import knn_search, l2_normalize
from mmreid_unsup.registry import PSEUDO_LABELERS
from .base_labeler import BaseLabeler

__all__ = ['PseudoPairLabeler', 'separation_index']


def separation_index(curve: torch.Tensor) -> torch.Tensor:
    """Where each sorted curve drops the most.

    Args:
        curve (Tensor): ``(N, K)`` values sorted non-increasingly along each
            row, ``K >= 2``.

    Returns:
        Tensor: ``(N,)`` long ``k*`` in ``1..K-1``: the first ``k`` with the
        largest drop ``curve[:, k - 1] - curve[:, k]``, i.e. the number of
        entries before the drop.
    """
    if curve.dim() != 2 or curve.size(1) < 2:
        raise ValueError('separation_index: expected a (N, K >= 2) curve, '
                         f'got {tuple(curve.shape)}')
    drops = curve[:, :-1] - curve[:, 1:]
    return drops.argmax(dim=1) + 1  # argmax returns the first maximum


@PSEUDO_LABELERS.register_module()
class PseudoPairLabeler(BaseLabeler):
    """Assign every image its pseudo-pair partners (PPSSL, Wu et al. 2022).

    PPSSL does not cluster: it "assigns pseudo labels to images through
    pairwise gradient-guided similarity separation". This toolbox's reading
    (``configs/ppssl/README.md``): for each anchor ``i`` take its
    ``search_depth`` nearest neighbours (cosine similarity, the anchor
    excluded), sorted so that ``s_(1) >= s_(2) >= ...``, turn them into a
    curve ``c`` and cut the curve where it drops the most (the largest
    discrete gradient ``c_(k) - c_(k+1)``). The ``k*`` neighbours before the
    cut are ``i``'s partners, at most ``max_partners`` of them, and only
    those with similarity ``>= min_similarity``. Two curves:

    - ``'similarity'``: ``c = s`` (the sorted similarity curve).
    - ``'gradient'``: ``c_k = exp((s_(k) - s_(1)) / temperature)``, the
      magnitude of the gradient that an instance-discrimination softmax at
      ``temperature`` puts on each pair (proportional to its softmax
      probability). The exponential stretches the top of the curve, so the
      cut falls among the closest neighbours: fewer, surer partners.

    With ``reciprocal=True`` a partner ``j`` of ``i`` is kept only if ``i``
    is also a partner of ``j``: the pairs are mutual.

    ``camera_penalty`` (an addition of this toolbox, 0 = off) subtracts a
    constant from the similarity of neighbours in the anchor's camera before
    the curve is sorted, as SCL's ``lambda_c`` does: where cameras shift
    colours strongly, the nearest neighbours are otherwise nearly all from
    the anchor's own camera, and pairs then teach no camera invariance.
    ``cross_camera=True`` (also this toolbox's) goes further: only
    neighbours from other cameras make the curve and can be partners. Where
    a person has several shots per camera (CUHK03: about five), those form
    the tightest group, the largest drop falls right after them, and even
    camera-centred features give nearly only same-camera pairs; a
    cross-camera partner is what teaches the camera invariance retrieval
    needs. Take a deeper ``search_depth`` with it: the curve is cut among
    the other-camera entries of the nearest ``search_depth``.

    The result is not a partition: ``__call__`` returns a ``(N,
    max_partners)`` matrix of partner indices (most similar first, ``-1``
    padding), which ``ClusterRefreshHook`` broadcasts from rank 0 and hands
    to the model (the pair loss) and to ``PseudoPairSampler``.

    Args:
        max_partners (int): Most partners kept per image. Defaults to 4.
        search_depth (int): Neighbours on each sorted curve (``K_max``).
            Defaults to 20.
        curve (str): ``'similarity'`` or ``'gradient'``. Defaults to
            ``'similarity'``.
        temperature (float): Of the ``'gradient'`` curve. Defaults to 0.05.
        reciprocal (bool): Keep mutual partners only. Defaults to True.
        min_similarity (float): Partners below this cosine similarity are
            dropped. Defaults to -1 (none).
        camera_penalty (float): Subtracted from same-camera similarities
            (needs ``camids``). Defaults to 0.
        cross_camera (bool): Partners from other cameras only (needs
            ``camids``). Defaults to False.
        knn_backend (str): See :func:`~mmreid_unsup.ops.knn_search`.
            Defaults to ``'auto'``.
        progress (bool): Show a progress bar per stage. Defaults to False.
        camera_centering (bool): Remove each camera's mean feature first,
            see :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults
            to False.
        on_bad_features (str): ``'outlier'`` or ``'error'``: what becomes of
            non-finite or zero feature rows, see
            :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults to
            ``'outlier'``.
    """

    curves = ('similarity', 'gradient')
    labels_are_sample_indices = True

    def __init__(self,
                 max_partners: int = 4,
                 search_depth: int = 20,
                 curve: str = 'similarity',
                 temperature: float = 0.05,
                 reciprocal: bool = True,
                 min_similarity: float = -1.0,
                 camera_penalty: float = 0.0,
                 cross_camera: bool = False,
                 knn_backend: str = 'auto',
                 progress: bool = False,
                 camera_centering: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        super().__init__(
            progress=progress,
            camera_centering=camera_centering,
            on_bad_features=on_bad_features)
        if max_partners < 1:
            raise ValueError('PseudoPairLabeler: max_partners must be >= 1, '
                             f'got {max_partners}')
        if search_depth < 2:
            raise ValueError('PseudoPairLabeler: search_depth must be >= 2 '
                             f'(a curve needs a drop), got {search_depth}')
        if curve not in self.curves:
            raise ValueError(f'PseudoPairLabeler: curve must be one of '
                             f'{self.curves}, got {curve!r}')
        if temperature <= 0:
            raise ValueError('PseudoPairLabeler: temperature must be > 0, '
                             f'got {temperature}')
        self.max_partners = max_partners
        self.search_depth = search_depth
        self.curve = curve
        self.temperature = temperature
        self.reciprocal = reciprocal
        self.min_similarity = min_similarity
        self.camera_penalty = camera_penalty
        self.cross_camera = cross_camera
        self.knn_backend = knn_backend

    @property
    def label_width(self) -> int:
        """Columns of the partner matrix (what the hook broadcasts)."""
        return self.max_partners

    def label(self, features: torch.Tensor,
              camids: Optional[torch.Tensor]) -> np.ndarray:
        """The partner matrix, see :meth:`__call__`."""
        num = features.size(0)
        depth = min(self.search_depth, num - 1)
        partners = np.full((num, self.max_partners), -1, dtype=np.int64)
        if depth < 2:
            return partners
        with self.stage('knn'):
            dists, indices = knn_search(
                l2_normalize(features), depth + 1, backend=self.knn_backend)
            sims = (1.0 - dists[:, 1:].float() / 2.0).cpu()
            indices = indices[:, 1:].cpu()
            if self.camera_penalty and camids is not None:
                camids = torch.as_tensor(camids).cpu()
                same_cam = camids[indices] == camids[:, None]
                sims = sims - self.camera_penalty * same_cam
                sims, order = sims.sort(dim=1, descending=True, stable=True)
                indices = indices.gather(1, order)
            valid = torch.ones_like(indices, dtype=torch.bool)
            if self.cross_camera:
                sims, indices, valid = self._other_cameras(
                    sims, indices, torch.as_tensor(camids).cpu())
        with self.stage('separation'):
            if self.curve == 'similarity':
                curve = sims
            else:
                curve = ((sims - sims[:, :1]) / self.temperature).exp()
            cut = separation_index(curve)
            cols = torch.arange(depth)
            keep = (cols < cut[:, None]) & (cols < self.max_partners)
            keep &= valid & (sims >= self.min_similarity)
            if self.reciprocal:
                keep = self._mutual(indices, keep)
        width = min(self.max_partners, depth)
        # Kept columns stay in similarity order, moved to the left.
        order = torch.argsort((~keep).int(), dim=1, stable=True)[:, :width]
        chosen = torch.where(
            keep.gather(1, order), indices.gather(1, order),
            torch.full_like(order, -1))
        partners[:, :width] = chosen.numpy()
        self.last_stats.update(
            num_pairs=int((partners >= 0).sum()),
            anchors_with_partner=float((partners[:, 0] >= 0).mean()),
            mean_cut=float(cut.float().mean()))
        return partners

    @staticmethod
    def _other_cameras(sims: torch.Tensor, indices: torch.Tensor,
                       camids: torch.Tensor) -> tuple:
        """Move each row's other-camera neighbours to the front.

        Args:
            sims (Tensor): ``(N, K)`` similarities, sorted along each row.
            indices (Tensor): ``(N, K)`` neighbour indices.
            camids (Tensor): ``(N,)`` cameras.

        Returns:
            tuple[Tensor]: ``sims`` and ``indices`` with the other-camera
            entries first (in order), and ``(N, K)`` bool ``valid`` marking
            them. Behind them the curve repeats the last valid similarity
            (a row with none repeats its first), so it has no drop there.
        """
        valid = camids[indices] != camids[:, None]
        order = torch.argsort((~valid).int(), dim=1, stable=True)
        sims, indices = sims.gather(1, order), indices.gather(1, order)
        valid = valid.gather(1, order)
        last = (valid.sum(dim=1) - 1).clamp(min=0)
        filler = sims.gather(1, last[:, None]).expand_as(sims)
        return torch.where(valid, sims, filler), indices, valid

    @staticmethod
    def _mutual(indices: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Which kept ``(i, indices[i, k])`` pairs are kept both ways.

        Args:
            indices (Tensor): ``(N, K)`` neighbour indices.
            keep (Tensor): ``(N, K)`` bool, the kept neighbours.

        Returns:
            Tensor: ``(N, K)`` bool, ``keep`` and ``i`` among the kept
            neighbours of ``indices[i, k]``.
        """
        kept = torch.where(keep, indices, torch.full_like(indices, -1))
        rows = torch.arange(indices.size(0))[:, None, None]
        return keep & (kept[indices] == rows).any(dim=2)

    def __call__(self,
                 features: torch.Tensor,
                 camids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Find every image's partners.

        Args:
            features (Tensor): ``(N, D)`` features of the training set.
            camids (Tensor, optional): ``(N,)`` cameras, used by
                ``camera_penalty`` and ``cross_camera``.

        Returns:
            Tensor: ``(N, max_partners)`` int64 partner indices on the
            features' device, most similar first, ``-1`` padding (an image
            with no partner has a row of ``-1``, and so has every
            non-finite or zero feature row, see ``on_bad_features``).
        """
        if features.dim() != 2:
            raise ValueError('PseudoPairLabeler: features must have shape '
                             f'(N, D), got {tuple(features.shape)}')
        if camids is not None and tuple(camids.shape) != (features.size(0), ):
            raise ValueError(f'PseudoPairLabeler: camids must have shape '
                             f'({features.size(0)},), got '
                             f'{tuple(camids.shape)}')
        if (self.camera_penalty or self.cross_camera) and camids is None:
            raise ValueError('PseudoPairLabeler: camera_penalty and '
                             'cross_camera need the cameras (camids)')
        self.last_stats = {}
        self._profiler = type(self._profiler)(
            progress=self.progress, device=features.device)
        partners = self.label_good_rows(features, camids)
        if partners.size:
            self.last_stats['anchors_with_partner'] = float(
                (partners[:, 0] >= 0).mean())
        self.last_stats.update(self._profiler.stats)
        self.last_stats['num_samples'] = int(features.size(0))
        return torch.from_numpy(partners).to(features.device)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_partners={self.max_partners}, '
                f'search_depth={self.search_depth}, curve={self.curve!r}, '
                f'reciprocal={self.reciprocal}, '
                f'min_similarity={self.min_similarity}, '
                f'camera_penalty={self.camera_penalty}, '
                f'cross_camera={self.cross_camera}, '
                f'camera_centering={self.camera_centering})')
