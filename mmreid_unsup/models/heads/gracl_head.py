"""GRACL's head: contrast against inter-ID and intra-ID proxy memories."""
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class GRACLHead(BaseModule):
    """Inter-ID and intra-ID relation-aware contrastive learning.

    Each branch is a memory with one entry per pseudo identity and a loss on
    the similarities to it; the positive of a sample is its own cluster's
    entry, the negatives are the other clusters' entries of the same
    memory:

    - ``inter``: inter-ID relation-aware proxies (a ``ProxyMemory`` with an
      ``InterIDProxySelector``), loss key ``loss_inter``;
    - ``intra``: intra-ID relation-aware proxies (a ``ProxyMemory`` with an
      ``IntraIDProxySelector``), loss key ``loss_intra``;
    - ``centroid`` (optional): Cluster-Contrast's centroid memory,
      loss key ``loss_centroid``.

    Set a memory to None to drop its branch (the ablations); at least one
    must remain. Each loss's ``temperature`` and ``loss_weight`` are its
    own. A memory config without ``feat_dim`` gets the head's.

    Args:
        feat_dim (int): Feature dimension, given to every memory config that
            does not set it. Defaults to 2048.
        inter_memory (dict, optional): Defaults to a ``ProxyMemory`` (momentum
            0.1, hard update) with ``InterIDProxySelector(relation='sample')``.
        intra_memory (dict, optional): Defaults to a ``ProxyMemory`` (momentum
            0.1, hard update) with ``IntraIDProxySelector``.
        centroid_memory (dict, optional): E.g. ``dict(type='ClusterMemory')``.
            Defaults to None (no centroid term).
        loss_inter (dict): Loss of the inter branch. Defaults to
            ``InfoNCELoss`` with temperature 0.05 and weight 1.
        loss_intra (dict): Loss of the intra branch. Defaults to
            ``InfoNCELoss`` with temperature 0.05 and weight 1.
        loss_centroid (dict): Loss of the centroid branch. Defaults to
            ``InfoNCELoss`` with temperature 0.05 and weight 1.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    branches = ('inter', 'intra', 'centroid')

    def __init__(self,
                 feat_dim: int = 2048,
                 inter_memory: Optional[dict] = dict(
                     type='ProxyMemory',
                     selector=dict(type='InterIDProxySelector'),
                     momentum=0.1,
                     update_rule='hard'),
                 intra_memory: Optional[dict] = dict(
                     type='ProxyMemory',
                     selector=dict(type='IntraIDProxySelector'),
                     momentum=0.1,
                     update_rule='hard'),
                 centroid_memory: Optional[dict] = None,
                 loss_inter: dict = dict(type='InfoNCELoss', temperature=0.05),
                 loss_intra: dict = dict(type='InfoNCELoss', temperature=0.05),
                 loss_centroid: dict = dict(
                     type='InfoNCELoss', temperature=0.05),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        memory_cfgs = dict(
            inter=inter_memory, intra=intra_memory, centroid=centroid_memory)
        loss_cfgs = dict(
            inter=loss_inter, intra=loss_intra, centroid=loss_centroid)
        self.feat_dim = feat_dim
        self.memories = nn.ModuleDict()
        self.losses = nn.ModuleDict()
        for name in self.branches:
            if memory_cfgs[name] is None:
                continue
            memory_cfg = dict(memory_cfgs[name])
            memory_cfg.setdefault('feat_dim', feat_dim)
            self.memories[name] = MODELS.build(memory_cfg)
            self.losses[name] = MODELS.build(loss_cfgs[name])
        if not self.memories:
            raise ValueError('GRACLHead: every memory is None; keep at least '
                             'one of inter_memory, intra_memory, '
                             'centroid_memory')

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Similarities of the features to each branch's memory.

        Args:
            feats (Tensor): Shape ``(B, D)``.
            labels (Tensor): Pseudo labels, shape ``(B,)``.

        Returns:
            dict[str, Tensor]: Branch name -> similarities ``(B, K)``.
        """
        return {
            name: memory(feats, labels)
            for name, memory in self.memories.items()
        }

    def loss(self, feats: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute one contrastive loss per branch.

        Args:
            feats (Tensor): L2-normalised features, shape ``(B, D)``.
            labels (Tensor): Pseudo labels, shape ``(B,)``, ``-1`` ignored.

        Returns:
            dict[str, Tensor]: ``loss_inter``, ``loss_intra`` and
            ``loss_centroid``, for the branches present.
        """
        similarities = self(feats, labels)
        return {
            f'loss_{name}': self.losses[name](sims, labels)
            for name, sims in similarities.items()
        }
