"""SCL: fully unsupervised re-ID by selective contrastive learning."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample
from ..utils import PartFusion
from .base_reid_model import BaseReIDModel


@MODELS.register_module()
class SCL(BaseReIDModel):
    """Selective contrastive learning (Pang et al., ACM TOMM 2022).

    A backbone map goes through a
    :class:`~mmreid_unsup.models.necks.GlobalStripeNeck`; the global
    embedding ``g`` ``(B, Dg)`` and each stripe embedding ``l_s``
    ``(B, Dl)`` are L2-normalised separately. Training needs no clustering:
    the :class:`~mmreid_unsup.models.heads.SCLHead` selects every anchor's
    positives and hard negatives from instance memories at each iteration
    and applies a multi-positive contrastive loss (see the head).
    ``InstanceMemoryHook`` fills the memories from the training set before
    the first epoch and tells the model the epoch (the selector's warm-up);
    ``MemoryMomentumHook`` updates them after each optimizer step.

    The retrieval embedding (``'tensor'`` mode and ``feat`` in
    ``'predict'`` mode) fuses both parts into one unit vector::

        e = [sqrt(lambda_g) * g, sqrt((1 - lambda_g) / S) * l_1, ...,
             sqrt((1 - lambda_g) / S) * l_S]

    so that ``||e - e'||^2 = lambda_g ||g - g'||^2 + (1 - lambda_g) / S *
    sum_s ||l_s - l'_s||^2``: the common evaluation protocol (``ReIDMetric``)
    ranks by SCL's selection distance without the camera term. ``predict``
    also attaches ``global_feat`` ``(Dg,)`` and ``local_feat`` ``(S, Dl)``
    for the reference protocol (``SCLReIDMetric``: non-squared distances and
    a camera term).

    Args:
        backbone (dict): Backbone config (a ``(B, C, H, W)`` map).
        neck (dict): Defaults to ``GlobalStripeNeck`` (2048 + 8 x 256).
        head (dict, optional): Defaults to ``SCLHead`` with the reference
            settings. None builds a feature extractor.
        lambda_g (float, optional): Weight of the global part in the
            retrieval embedding. None takes the head selector's
            ``lambda_g`` (the reference uses one ``LAMBDA_G`` for both),
            or 0.5 without a head. Defaults to None.
        data_preprocessor (dict or nn.Module, optional): Defaults to
            ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict = dict(type='GlobalStripeNeck'),
                 head: Optional[dict] = dict(type='SCLHead'),
                 lambda_g: Optional[float] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if lambda_g is None:
            lambda_g = (self.head.selector.lambda_g
                        if self.head is not None else 0.5)
        if not 0.0 <= lambda_g <= 1.0:
            raise ValueError(
                f'SCL: lambda_g must be in [0, 1], got {lambda_g}')
        self.lambda_g = lambda_g
        self.fusion = PartFusion(lambda_g)
        self.epoch = 0

    # -- features ---------------------------------------------------------

    def extract_parts(
            self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The normalised global and stripe features.

        Args:
            inputs (Tensor): Normalised images, shape ``(B, 3, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: ``(B, Dg)`` and ``(B, S, Dl)``, every
            vector of unit norm.
        """
        global_feat, local_feat = self.neck(self.backbone(inputs))
        return F.normalize(global_feat, dim=1), F.normalize(local_feat, dim=2)

    def fuse(self, global_feat: torch.Tensor,
             local_feat: torch.Tensor) -> torch.Tensor:
        """The unit-norm retrieval embedding of normalised parts.

        See :meth:`~mmreid_unsup.models.utils.PartFusion.fuse`.
        """
        return self.fusion.fuse(global_feat, local_feat)

    def split(self, feats: torch.Tensor, global_dim: int,
              num_stripes: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Undo :meth:`fuse` (a part of weight 0 comes back as zeros).

        See :meth:`~mmreid_unsup.models.utils.PartFusion.split`.
        """
        return self.fusion.split(feats, global_dim, num_stripes)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The fused retrieval embedding, shape ``(B, Dg + S * Dl)``."""
        return self.fuse(*self.extract_parts(inputs))

    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]] = None
    ) -> List[ReIDDataSample]:
        """Attach ``feat`` (fused), ``global_feat`` and ``local_feat``."""
        global_feat, local_feat = self.extract_parts(inputs)
        return self.attach_fields(
            data_samples,
            feat=self.fuse(global_feat, local_feat),
            global_feat=global_feat,
            local_feat=local_feat)

    # -- training ---------------------------------------------------------

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[ReIDDataSample]]
             ) -> Dict[str, torch.Tensor]:
        """SCL's losses for a batch (memory indices = ``sample_idx``)."""
        self.check_loss_inputs(data_samples)
        global_feat, local_feat = self.extract_parts(inputs)
        indices = self.sample_indices(data_samples, global_feat.device)
        return self.head.loss(global_feat, local_feat, indices, self.epoch)

    def set_epoch(self, epoch: int) -> None:
        """Tell the model the current 0-based epoch (warm-up selection)."""
        self.epoch = int(epoch)

    @property
    def num_memory_instances(self) -> int:
        """Entries of the instance memories (0 before initialisation)."""
        return 0 if self.head is None else self.head.num_instances

    def init_memories(self, features: torch.Tensor,
                      camids: torch.Tensor) -> None:
        """Initialise the memories from the training set.

        Args:
            features (Tensor): ``(N, D)`` fused embeddings (``'tensor'``
                mode) of the whole training set, dataset order.
            camids (Tensor): ``(N,)`` their cameras.
        """
        if self.head is None:
            raise RuntimeError('SCL has no head, hence no memories')
        memory = self.head.local_memory
        device = self.head.global_memory.bank.device
        global_feat, local_feat = self.split(
            features.to(device), self.head.global_memory.feat_dim,
            memory.num_parts)
        self.head.init_memories(
            F.normalize(global_feat, dim=1), F.normalize(local_feat, dim=2),
            torch.as_tensor(camids))

    def neighbour_stats(self, pids: torch.Tensor) -> Dict[str, float]:
        """Quality of the positives selected from the current memories.

        See :meth:`~mmreid_unsup.models.heads.SCLHead.neighbour_stats`.
        """
        if self.head is None:
            raise RuntimeError('SCL has no head, hence no memories')
        return self.head.neighbour_stats(pids)

    def set_pseudo_labels(self, labels: torch.Tensor,
                          features: torch.Tensor) -> None:
        """SCL has no pseudo labels: it selects neighbours per batch."""
        raise RuntimeError(
            'SCL does not use cluster pseudo labels: use InstanceMemoryHook '
            '(not ClusterRefreshHook) in custom_hooks')
