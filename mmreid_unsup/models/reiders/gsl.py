"""GSL: global-level and patch-level discriminative feature learning."""
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample
from ..utils import PartFusion
from .base_reid_model import BaseReIDModel


@MODELS.register_module()
class GSL(BaseReIDModel):
    """Global- and patch-level learning (Sun, Zhao, Wu, ICIP 2021).

    One backbone map feeds two branches, either of which may be absent:

    - the **global branch**: ``neck`` pools the map into a global feature
      ``g`` ``(B, Dg)``; ``head``
      (:class:`~mmreid_unsup.models.heads.GlobalSimilarityHead`) applies the
      global similarity-based loss against an instance memory (the
      memory-based non-parametric classifier), pulling each image towards
      its credible samples;
    - the **patch branch**: ``patch_neck``
      (:class:`~mmreid_unsup.models.necks.PatchNeck`) cuts the map into
      ``S`` generated patches and embeds each, ``p`` ``(B, S, Dp)``;
      ``patch_head`` (:class:`~mmreid_unsup.models.heads.PatchHead`) applies
      PAUL's patch-level (PEDAL) and image-level (IPFL) losses.

    Every feature is L2-normalised. Training needs no clustering:
    ``InstanceMemoryHook`` fills the memories from the training set before
    the first epoch and tells the model the epoch; ``MemoryMomentumHook``
    moves them after each optimizer step. A batch may hold several views of
    an image (``MultiView`` in the training pipeline, e.g. PAUL's image and
    augmented copy): the views share the image's ``sample_idx`` and memory
    entries, the first view (``view == 0``) updates the memories and is
    PEDAL's anchor, and every view enters the global and image-level losses.

    The retrieval embedding (``'tensor'`` mode and ``feat`` in
    ``'predict'`` mode) is one unit vector::

        e = [sqrt(w) g, sqrt((1 - w) / S) p_1, ..., sqrt((1 - w) / S) p_S]

    (:class:`~mmreid_unsup.models.utils.PartFusion`), so that ``e . e' = w
    cos(g, g') + (1 - w) mean_s cos(p_s, p'_s)``; with the patch branch
    only it is PAUL's test feature (the concatenated patches, cosine), with
    the global branch only it is ``g``.

    Args:
        backbone (dict): Backbone config (a ``(B, C, H, W)`` map).
        neck (dict, optional): The global neck; None drops the global
            branch. Defaults to an average-pooling ``BNNeck`` of 2048
            channels.
        patch_neck (dict, optional): The patch neck; None drops the patch
            branch. Defaults to ``dict(type='PatchNeck')``.
        head (dict, optional): The global head (needs ``neck``). Defaults to
            ``dict(type='GlobalSimilarityHead')``.
        patch_head (dict, optional): The patch head (needs ``patch_neck``).
            Defaults to ``dict(type='PatchHead')``.
        global_weight (float, optional): ``w``. Defaults to 0.5 with both
            branches (must then be in ``(0, 1)``), 1 or 0 with one.
        data_preprocessor (dict or nn.Module, optional): Defaults to
            ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    resizable_buffers = ('pseudo_labels', 'camids')

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = dict(
                     type='BNNeck', in_channels=2048, pooling='avg'),
                 patch_neck: Optional[dict] = dict(type='PatchNeck'),
                 head: Optional[dict] = dict(type='GlobalSimilarityHead'),
                 patch_head: Optional[dict] = dict(type='PatchHead'),
                 global_weight: Optional[float] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if neck is None and patch_neck is None:
            raise ValueError('GSL: neck and patch_neck are both None: there '
                             'is no feature to learn')
        if head is not None and neck is None:
            raise ValueError('GSL: the global head needs the global neck')
        if patch_head is not None and patch_neck is None:
            raise ValueError('GSL: patch_head needs patch_neck')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.patch_neck = (
            MODELS.build(patch_neck) if patch_neck is not None else None)
        self.patch_head = (
            MODELS.build(patch_head) if patch_head is not None else None)
        if (self.head is not None and self.patch_head is None
                and self.head.selector.needs_patch_memory):
            raise ValueError(
                "GSL: the credible-sample rule 'patch' needs the patch "
                'branch (patch_neck and patch_head)')
        both = self.neck is not None and self.patch_neck is not None
        if global_weight is None:
            global_weight = 0.5 if both else float(self.neck is not None)
        if both and not 0.0 < global_weight < 1.0:
            raise ValueError('GSL: with both branches global_weight must be '
                             f'in (0, 1), got {global_weight}')
        if not both and global_weight != float(self.neck is not None):
            raise ValueError(
                f'GSL: with the {"global" if self.neck else "patch"} branch '
                f'only, global_weight must be {float(self.neck is not None)}'
                f' or None, got {global_weight}')
        self.global_weight = global_weight
        self.fusion = PartFusion(global_weight)
        self.epoch = 0
        self.camids: torch.Tensor
        self.register_buffer('camids', torch.zeros(0, dtype=torch.long))

    # -- features ---------------------------------------------------------

    def extract_parts(
        self, inputs: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """The normalised global and patch features.

        Args:
            inputs (Tensor): Normalised images, shape ``(B, 3, H, W)``.

        Returns:
            tuple: ``g`` ``(B, Dg)`` (None without the global branch) and
            ``p`` ``(B, S, Dp)`` (None without the patch branch), unit
            vectors.
        """
        maps = self.backbone(inputs)
        global_feat = patch_feat = None
        if self.neck is not None:
            global_feat = F.normalize(self.neck(maps), dim=1)
        if self.patch_neck is not None:
            patch_feat = F.normalize(self.patch_neck(maps), dim=2)
        return global_feat, patch_feat

    def fuse(self, global_feat: Optional[torch.Tensor],
             patch_feat: Optional[torch.Tensor]) -> torch.Tensor:
        """The unit retrieval embedding of normalised parts (see class)."""
        if patch_feat is None:
            return global_feat
        if global_feat is None:
            return patch_feat.flatten(1) / math.sqrt(patch_feat.shape[1])
        return self.fusion.fuse(global_feat, patch_feat)

    def split(
        self, feats: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Undo :meth:`fuse`.

        Args:
            feats (Tensor): ``(N, D)`` retrieval embeddings.

        Returns:
            tuple: ``(N, Dg)`` or None, ``(N, S, Dp)`` or None.
        """
        if self.patch_neck is None:
            return feats, None
        num, dim = self.patch_neck.num_patches, self.patch_neck.out_channels
        if self.neck is None:
            return None, feats.view(feats.shape[0], num, dim) * math.sqrt(num)
        global_dim = feats.shape[1] - num * dim
        if global_dim < 1:
            raise ValueError(f'GSL: an embedding of {feats.shape[1]} channels '
                             f'cannot hold {num} patches of {dim}')
        return self.fusion.split(feats, global_dim, num)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The retrieval embedding ``(B, D)``, unit rows."""
        return self.fuse(*self.extract_parts(inputs))

    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]] = None
    ) -> List[ReIDDataSample]:
        """Attach ``feat`` and, per branch, ``global_feat`` and
        ``patch_feat``."""
        global_feat, patch_feat = self.extract_parts(inputs)
        return self.attach_fields(
            data_samples,
            feat=self.fuse(global_feat, patch_feat),
            global_feat=global_feat,
            patch_feat=patch_feat)

    # -- training ---------------------------------------------------------

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[ReIDDataSample]]
             ) -> Dict[str, torch.Tensor]:
        """The branches' losses for a batch (memory index =
        ``sample_idx``)."""
        self.check_loss_inputs(
            data_samples,
            has_head=self.head is not None or self.patch_head is not None)
        global_feat, patch_feat = self.extract_parts(inputs)
        device = inputs.device
        indices = self.sample_indices(data_samples, device)
        first_view = torch.as_tensor(
            [int(s.metainfo.get('view', 0)) == 0 for s in data_samples],
            device=device)
        losses = {}
        if self.head is not None:
            patch_bank = None
            if (self.patch_head is not None
                    and self.head.selector.needs_patch_memory):
                patch_bank = self.patch_head.patch_memory.bank
            camids = self.camids if self.camids.numel() else None
            losses.update(
                self.head.loss(global_feat, indices, first_view, self.epoch,
                               patch_bank, camids))
        if self.patch_head is not None:
            losses.update(
                self.patch_head.loss(patch_feat, indices, first_view))
        return losses

    def set_epoch(self, epoch: int) -> None:
        """Tell the model the current 0-based epoch (credible warm-up)."""
        self.epoch = int(epoch)

    @property
    def num_memory_instances(self) -> int:
        """Entries of the instance memories (0 before initialisation)."""
        if self.head is not None:
            return self.head.num_instances
        if self.patch_head is not None:
            return self.patch_head.num_instances
        return 0

    def init_memories(self, features: torch.Tensor,
                      camids: torch.Tensor) -> None:
        """Initialise the memories from the training set.

        Args:
            features (Tensor): ``(N, D)`` retrieval embeddings
                (``'tensor'`` mode) of the whole training set, dataset order.
            camids (Tensor): ``(N,)`` their cameras (the selector's camera
                penalty, diagnostics).
        """
        if self.head is None and self.patch_head is None:
            raise RuntimeError('GSL has no head, hence no memories')
        global_feat, patch_feat = self.split(features)
        if self.head is not None:
            self.head.init_memory(F.normalize(global_feat, dim=1))
        if self.patch_head is not None:
            self.patch_head.init_memories(F.normalize(patch_feat, dim=2))
        self.camids = torch.as_tensor(camids).to(
            device=self.camids.device, dtype=torch.long).clone()

    def neighbour_stats(self, pids: torch.Tensor) -> Dict[str, float]:
        """Identity precision of the memories' neighbours, for the log.

        See :meth:`~mmreid_unsup.models.heads.GlobalSimilarityHead.
        neighbour_stats` (``credible_*``) and :meth:`~mmreid_unsup.models.
        heads.PatchHead.neighbour_stats` (``patch_precision``).
        """
        stats = {}
        camids = self.camids if self.camids.numel() else None
        if self.head is not None:
            patch_bank = None
            if (self.patch_head is not None
                    and self.head.selector.needs_patch_memory):
                patch_bank = self.patch_head.patch_memory.bank
            stats.update(self.head.neighbour_stats(pids, camids, patch_bank))
        if self.patch_head is not None:
            stats.update(self.patch_head.neighbour_stats(pids))
        return stats

    def set_pseudo_labels(self, labels: torch.Tensor,
                          features: torch.Tensor) -> None:
        """GSL has no cluster pseudo labels: it reads its memories."""
        raise RuntimeError(
            'GSL does not use cluster pseudo labels: use InstanceMemoryHook '
            '(not ClusterRefreshHook) in custom_hooks')
