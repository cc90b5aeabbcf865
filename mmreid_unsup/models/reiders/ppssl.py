"""PPSSL: pseudo-pair based self-similarity learning (IEEE TIP 2022)."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample
from ..utils import PartFusion
from .base_reid_model import BaseReIDModel


@MODELS.register_module()
class PPSSL(BaseReIDModel):
    """Pseudo-pair based self-similarity learning (Wu et al., TIP 2022).

    No global clustering. The backbone map feeds a global ``neck`` (the
    global embedding ``g``) and a ``patch_neck``
    (:class:`~mmreid_unsup.models.necks.PatchAttentionNeck`: ``P``
    horizontal patches with channel attention, the embeddings ``p_1..p_P``);
    the :class:`~mmreid_unsup.models.heads.PPSSLHead` trains them with patch
    surrogate classes first, then with each image's *pseudo partners*, plus
    the intra- and inter-similarity losses.

    The pseudo partners of the training set live in the ``pseudo_labels``
    buffer as a ``(N, K)`` matrix (``-1`` padding), written by
    ``ClusterRefreshHook`` with a
    :class:`~mmreid_unsup.pseudo_labels.PseudoPairLabeler` on rank 0 and
    broadcast; being a buffer, they are in every checkpoint. Each refresh
    also re-initialises the memories from the extracted features.

    The retrieval embedding (``'tensor'`` mode, ``feat`` in ``'predict'``)
    fuses the normalised parts
    (:class:`~mmreid_unsup.models.utils.PartFusion`)::

        e = [sqrt(w) g, sqrt((1 - w) / P) p_1, ..., sqrt((1 - w) / P) p_P]

    so ``e . e' = w cos(g, g') + (1 - w) mean_p cos(p_p, p'_p)``: the pair
    labeler and the evaluation rank by that mix.

    Args:
        backbone (dict): Backbone config (a ``(B, C, H, W)`` map).
        neck (dict): Global neck config (``(B, Dg)``).
        patch_neck (dict): Patch neck config.
        head (dict, optional): Defaults to ``PPSSLHead``; None builds a
            feature extractor.
        global_weight (float): ``w``. Defaults to 0.5.
        data_preprocessor (dict or nn.Module, optional): Defaults to
            ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 patch_neck: dict,
                 head: Optional[dict] = dict(type='PPSSLHead'),
                 global_weight: float = 0.5,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.patch_neck = MODELS.build(patch_neck)
        self.fusion = PartFusion(global_weight)
        self.epoch = 0

    # -- features ---------------------------------------------------------

    def extract_parts(
        self, inputs: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Everything the losses need from a batch of images.

        Args:
            inputs (Tensor): Normalised images, ``(B, 3, H, W)``.

        Returns:
            tuple[Tensor, Tensor, Tensor, Tensor]: the backbone map ``(B,
            C, h, w)``, the normalised global feature ``(B, Dg)``, the
            attended patch vectors ``(B, P, C)`` and the normalised patch
            features ``(B, P, D)``.
        """
        maps = self.backbone(inputs)
        global_feat = F.normalize(self.neck(maps), dim=1)
        attended, patches = self.patch_neck(maps)
        return maps, global_feat, attended, F.normalize(patches, dim=2)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The fused retrieval embedding ``(B, Dg + P * D)``."""
        _, global_feat, _, patches = self.extract_parts(inputs)
        return self.fusion.fuse(global_feat, patches)

    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]] = None
    ) -> List[ReIDDataSample]:
        """Attach ``feat`` (fused), ``global_feat`` and ``patch_feat``."""
        _, global_feat, _, patches = self.extract_parts(inputs)
        return self.attach_fields(
            data_samples,
            feat=self.fusion.fuse(global_feat, patches),
            global_feat=global_feat,
            patch_feat=patches)

    # -- training ---------------------------------------------------------

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[ReIDDataSample]]
             ) -> Dict[str, torch.Tensor]:
        """PPSSL's losses for a batch (memory indices = ``sample_idx``)."""
        self.check_loss_inputs(data_samples)
        partners = self.lookup_pseudo_labels(data_samples)
        if partners.dim() != 2:
            raise RuntimeError(
                'PPSSL: the pseudo labels are not a (N, K) partner matrix: '
                'use PseudoPairLabeler in ClusterRefreshHook')
        maps, global_feat, attended, patches = self.extract_parts(inputs)
        indices = self.sample_indices(data_samples, global_feat.device)
        return self.head.loss(maps, global_feat, attended, patches, indices,
                              partners.to(indices.device), self.epoch)

    def set_epoch(self, epoch: int) -> None:
        """Tell the model the current 0-based epoch (stage A or B)."""
        self.epoch = int(epoch)

    def set_pseudo_labels(self, labels: torch.Tensor,
                          features: torch.Tensor) -> None:
        """Store the partner matrix and re-initialise the memories.

        Args:
            labels (Tensor): ``(N, K)`` partner indices, ``-1`` padding, in
                dataset order.
            features (Tensor): ``(N, Dg + P * D)`` fused embeddings they were
                computed from.
        """
        labels = torch.as_tensor(labels)
        if labels.dim() != 2 or labels.shape[0] != features.shape[0]:
            raise ValueError(
                'PPSSL.set_pseudo_labels: expected a (N, K) partner matrix '
                f'and (N, D) features, got {tuple(labels.shape)} and '
                f'{tuple(features.shape)}')
        self.pseudo_labels = labels.to(
            device=self.pseudo_labels.device, dtype=torch.long).clone()
        if self.head is None:
            return
        memory = self.head.patch_memory
        global_feat, patches = self.fusion.split(
            features.to(self.pseudo_labels.device),
            self.head.global_memory.feat_dim, memory.num_parts)
        self.head.init_memories(
            F.normalize(global_feat, dim=1), F.normalize(patches, dim=2))
