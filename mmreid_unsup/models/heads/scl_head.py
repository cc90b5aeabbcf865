"""Selective contrastive learning head: three memories, one selector."""
from typing import Dict, Optional, Union

import torch
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS
from ..utils import ResizableBufferMixin


@MODELS.register_module()
class SCLHead(ResizableBufferMixin, BaseModule):
    """SCL's losses from global and stripe features (Pang et al., TOMM 2022).

    Three instance memories, all model buffers:

    - ``global_memory`` ``G`` ``(N, Dg)`` and ``local_memory`` ``L``
      ``(N, S, Dl)``, initialised from the training set's features and moved
      by momentum (0.5) with each anchor's own features; used only to select
      neighbours.
    - ``mixture_memory`` ``M`` ``(N, Dg)``, initialised to zeros; the loss
      compares features with it. Both the global feature and the
      concatenated stripes (``S * Dl = Dg``, norm ``sqrt(S)``) move it, and
      every *positive* of an anchor, not only the anchor's own entry, is
      moved towards the anchor's features: hence "mixture".

    For each batch the ``selector`` (a
    :class:`~mmreid_unsup.models.sample_selectors.NeighbourSelector`) picks
    each anchor's positives and negatives from ``G`` and ``L``; the candidates
    ``[self, positives, negatives]`` of ``M`` give similarities for the
    global and the local features, and the ``loss``
    (:class:`~mmreid_unsup.models.losses.MultiPositiveMemoryLoss`) turns
    each into a multi-positive contrastive loss::

        loss = lambda_p * loss_local + (1 - lambda_p) * loss_global

    The memory updates are recorded here and applied after the optimizer
    step by ``MemoryMomentumHook``: ``M`` with the local then the global
    features at every positive (the reference's backward order), ``G`` and
    ``L`` with each anchor's features at its own entry.

    The cameras of the memory entries are the buffer ``camids`` ``(N,)``.

    Args:
        global_memory (dict): Config of ``G``.
        local_memory (dict): Config of ``L``.
        mixture_memory (dict): Config of ``M``.
        selector (dict): Config of the neighbour selector (``MODELS``).
        loss (dict): Config of the loss on the ``M`` similarities.
        local_loss_weight (float): ``lambda_p``. Defaults to 0.3 (SCL's
            ``config/defaults.py`` and released logs; its ``test.yml`` has
            0.5).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    resizable_buffers = ('camids', )

    def __init__(self,
                 global_memory: dict = dict(
                     type='InstanceMemory', feat_dim=2048, momentum=0.5),
                 local_memory: dict = dict(
                     type='InstanceMemory',
                     feat_dim=256,
                     num_parts=8,
                     momentum=0.5),
                 mixture_memory: dict = dict(
                     type='InstanceMemory',
                     feat_dim=2048,
                     momentum=0.5,
                     init='zeros'),
                 selector: dict = dict(type='NeighbourSelector'),
                 loss: dict = dict(type='MultiPositiveMemoryLoss'),
                 local_loss_weight: float = 0.3,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= local_loss_weight <= 1.0:
            raise ValueError('SCLHead: local_loss_weight must be in [0, 1], '
                             f'got {local_loss_weight}')
        self.global_memory = MODELS.build(global_memory)
        self.local_memory = MODELS.build(local_memory)
        self.mixture_memory = MODELS.build(mixture_memory)
        self.selector = MODELS.build(selector)
        self.loss_module = MODELS.build(loss)
        self.local_loss_weight = local_loss_weight
        local_dim = self.local_memory.num_parts * self.local_memory.feat_dim
        mixture_dim = self.mixture_memory.feat_dim
        if not (self.global_memory.feat_dim == local_dim == mixture_dim):
            raise ValueError(
                'SCLHead: the mixture memory holds global and concatenated '
                'stripe features, so their sizes must agree: global '
                f'{self.global_memory.feat_dim}, stripes {local_dim}, '
                f'mixture {mixture_dim}')
        self.camids: torch.Tensor
        self.register_buffer('camids', torch.zeros(0, dtype=torch.long))

    @property
    def num_instances(self) -> int:
        """Entries of the memories (0 before :meth:`init_memories`)."""
        return self.global_memory.num_instances

    def init_memories(self, global_feats: torch.Tensor,
                      local_feats: torch.Tensor,
                      camids: torch.Tensor) -> None:
        """(Re-)initialise the three memories for a training set.

        Args:
            global_feats (Tensor): ``(N, Dg)`` features of the training set.
            local_feats (Tensor): ``(N, S, Dl)`` their stripe features.
            camids (Tensor): ``(N,)`` their cameras.
        """
        num = global_feats.shape[0]
        camids = torch.as_tensor(camids)
        if local_feats.shape[0] != num or camids.shape != (num, ):
            raise ValueError(
                f'SCLHead.init_memories: got {num} global features, '
                f'{local_feats.shape[0]} local features and camids of shape '
                f'{tuple(camids.shape)}')
        self.global_memory.init_from_features(global_feats)
        self.local_memory.init_from_features(local_feats)
        self.mixture_memory.init_from_features(global_feats)
        self.camids = camids.to(
            device=self.camids.device, dtype=torch.long).clone()

    def select(self, global_feats: torch.Tensor, local_feats: torch.Tensor,
               indices: torch.Tensor, epoch: int):
        """The selector's positives and negatives for a batch.

        Args:
            global_feats (Tensor): ``(B, Dg)`` normalised global features.
            local_feats (Tensor): ``(B, S, Dl)`` normalised stripe features.
            indices (Tensor): ``(B,)`` the samples' memory indices.
            epoch (int): The current 0-based epoch.

        Returns:
            NeighbourSelection: see :meth:`~mmreid_unsup.models.\
sample_selectors.NeighbourSelector.select`.
        """
        if self.num_instances == 0:
            raise RuntimeError(
                'SCLHead: the memories are empty: is InstanceMemoryHook in '
                'custom_hooks?')
        return self.selector.select(global_feats.detach(),
                                    local_feats.detach(), indices,
                                    self.global_memory.bank,
                                    self.local_memory.bank, self.camids, epoch)

    @torch.no_grad()
    def neighbour_stats(self,
                        pids: torch.Tensor,
                        chunk_size: int = 1024) -> Dict[str, float]:
        """How good the selected positives are, for diagnostics.

        Every entry of the memories is taken as an anchor (its memory entry
        as the query) and its positives are selected as after the warm-up.

        Args:
            pids (Tensor): ``(N,)`` ground-truth identities of the training
                set (never used for training).
            chunk_size (int): Anchors processed at once. Defaults to 1024.

        Returns:
            dict[str, float]: ``pos_precision``, the fraction of selected
            positives with the anchor's identity, and ``pos_cross_camera``,
            the fraction from another camera than the anchor's.
        """
        pids = torch.as_tensor(pids).to(self.camids.device)
        g_bank, l_bank = self.global_memory.bank, self.local_memory.bank
        same_id, cross_cam, count = 0.0, 0.0, 0
        for start in range(0, self.num_instances, chunk_size):
            idx = torch.arange(
                start, min(start + chunk_size, self.num_instances),
                device=g_bank.device)
            positives = self.selector.select(
                g_bank[idx], l_bank[idx], idx, g_bank, l_bank, self.camids,
                epoch=self.selector.warmup_epochs).positives[:, 1:]
            same_id += float((pids[positives] == pids[idx, None]).sum())
            cross_cam += float(
                (self.camids[positives] != self.camids[idx, None]).sum())
            count += positives.numel()
        count = max(count, 1)
        return dict(
            pos_precision=same_id / count, pos_cross_camera=cross_cam / count)

    def loss(self, global_feats: torch.Tensor, local_feats: torch.Tensor,
             indices: torch.Tensor, epoch: int) -> Dict[str, torch.Tensor]:
        """Select neighbours, compute the losses, record memory updates.

        Args:
            global_feats (Tensor): ``(B, Dg)`` L2-normalised global features.
            local_feats (Tensor): ``(B, S, Dl)`` stripe features, each stripe
                L2-normalised.
            indices (Tensor): ``(B,)`` the samples' indices in the training
                set (their memory entries).
            epoch (int): The current 0-based epoch (warm-up or not).

        Returns:
            dict[str, Tensor]: ``loss_local`` and ``loss_global`` (already
            weighted by ``lambda_p`` and ``1 - lambda_p``), plus
            ``acc_local`` and ``acc_global``: how often the anchor's own
            entry is the most similar candidate (logged, not optimised).
        """
        selection = self.select(global_feats, local_feats, indices, epoch)
        candidates = selection.candidates
        positive_cols = torch.arange(
            selection.positives.size(1), device=candidates.device)
        local_cat = local_feats.flatten(1)
        sims_local = self.mixture_memory(local_cat, candidates)
        sims_global = self.mixture_memory(global_feats, candidates)
        loss_local = self.loss_module(sims_local, positive_cols)
        loss_global = self.loss_module(sims_global, positive_cols)

        if self.training:
            self.mixture_memory.record_pending_update(local_cat,
                                                      selection.positives)
            self.mixture_memory.record_pending_update(global_feats,
                                                      selection.positives)
            self.global_memory.record_pending_update(global_feats, indices)
            self.local_memory.record_pending_update(local_feats, indices)

        weight = self.local_loss_weight
        return dict(
            loss_local=weight * loss_local,
            loss_global=(1 - weight) * loss_global,
            acc_local=(sims_local.argmax(1) == 0).float().mean(),
            acc_global=(sims_global.argmax(1) == 0).float().mean())
