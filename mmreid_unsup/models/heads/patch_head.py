"""GSL's patch branch: PAUL's patch memory, image agents and two losses."""
import math
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class PatchHead(BaseModule):
    """Patch-level and image-level feature learning (PAUL, CVPR 2019).

    Takes the L2-normalised patch features ``p`` ``(B, S, D)`` of a batch
    (:class:`~mmreid_unsup.models.necks.PatchNeck`) and computes:

    - the **patch-level loss** (``patch_loss``,
      :class:`~mmreid_unsup.models.losses.PedalLoss`) of the first view of
      each image against the **patch memory**, an
      :class:`~mmreid_unsup.models.memories.InstanceMemory` ``(N, S, D)``
      filled from the training set before the first epoch and moved by
      momentum (0.9) with the first views' patches;
    - the **image-level loss** (``image_loss``,
      :class:`~mmreid_unsup.models.losses.IPFLLoss`) of every view. Each
      patch gives ``E`` cosine similarities to ``E`` directions (the rows of
      ``embedding``, L2-normalised: PAUL's ``esim``), concatenated to an
      ``S * E`` image embedding; the views of an image are averaged and
      folded into its agent (:class:`~mmreid_unsup.models.memories.
      AgentMemory`, momentum 0.9), and each view is pulled towards its agent
      and away from a cycle-ranked other agent of the batch.

    PAUL leaves the embedding directions out of the optimiser
    (``PatchNetUn.get_param``), so they stay random:
    ``embedding_trainable=False`` reproduces that.

    Args:
        num_patches (int): ``S``. Defaults to 6.
        feat_dim (int): ``D``. Defaults to 256.
        embed_dim (int): ``E``. Defaults to 128.
        embedding_trainable (bool): Train the embedding directions. Defaults
            to False (PAUL).
        patch_momentum (float): Momentum of the patch memory (weight of the
            old entry). Defaults to 0.9 (PAUL's ``--mm 0.1``).
        agent_momentum (float): Momentum of the agents. Defaults to 0.9.
        patch_loss (dict, optional): Config of the patch-level loss; None
            drops it. Defaults to ``PedalLoss`` (scale 15, k 10, weight 2).
        image_loss (dict, optional): Config of the image-level loss; None
            drops it (and the agents). Defaults to ``IPFLLoss`` (margin 2,
            weight 1).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 num_patches: int = 6,
                 feat_dim: int = 256,
                 embed_dim: int = 128,
                 embedding_trainable: bool = False,
                 patch_momentum: float = 0.9,
                 agent_momentum: float = 0.9,
                 patch_loss: Optional[dict] = dict(
                     type='PedalLoss',
                     scale=15.0,
                     num_neighbours=10,
                     loss_weight=2.0),
                 image_loss: Optional[dict] = dict(
                     type='IPFLLoss', margin=2.0, loss_weight=1.0),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if patch_loss is None and image_loss is None:
            raise ValueError('PatchHead: patch_loss and image_loss are both '
                             'None; drop the patch head instead')
        self.num_patches = num_patches
        self.feat_dim = feat_dim
        self.embed_dim = embed_dim
        self.patch_memory = MODELS.build(
            dict(
                type='InstanceMemory',
                feat_dim=feat_dim,
                num_parts=num_patches,
                momentum=patch_momentum))
        self.patch_loss = MODELS.build(patch_loss) if patch_loss else None
        self.image_loss = MODELS.build(image_loss) if image_loss else None
        self.agent_memory = None
        self.embedding = None
        if self.image_loss is not None:
            self.agent_memory = MODELS.build(
                dict(
                    type='AgentMemory',
                    feat_dim=num_patches * embed_dim,
                    momentum=agent_momentum))
            # nn.Linear's default initialisation, one (E, D) block per patch.
            weight = torch.empty(num_patches, embed_dim, feat_dim)
            for block in weight:
                nn.init.kaiming_uniform_(block, a=math.sqrt(5))
            self.embedding = nn.Parameter(
                weight, requires_grad=embedding_trainable)

    @property
    def num_instances(self) -> int:
        """Entries of the patch memory (0 before :meth:`init_memories`)."""
        return self.patch_memory.num_instances

    def init_memories(self, patch_feats: torch.Tensor) -> None:
        """Fill the patch memory, empty the agents.

        Args:
            patch_feats (Tensor): ``(N, S, D)`` the training set's patch
                features, dataset order.
        """
        self.patch_memory.init_from_features(patch_feats)
        if self.agent_memory is not None:
            self.agent_memory.reset(patch_feats.shape[0])

    def embed(self, patch_feats: torch.Tensor) -> torch.Tensor:
        """The image embedding: cosines of each patch to its directions.

        Args:
            patch_feats (Tensor): ``(B, S, D)``, unit patches.

        Returns:
            Tensor: ``(B, S * E)``.
        """
        if self.embedding is None:
            raise RuntimeError('PatchHead: no image_loss, hence no embedding')
        directions = F.normalize(self.embedding, dim=2)
        return torch.einsum('bsd,sed->bse', patch_feats,
                            directions).flatten(1)

    def loss(self,
             patch_feats: torch.Tensor,
             indices: torch.Tensor,
             first_view: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """The patch branch's losses; records the memory updates.

        Args:
            patch_feats (Tensor): ``(B, S, D)`` L2-normalised patches of
                every view in the batch.
            indices (Tensor): ``(B,)`` their images' memory entries (the
                views of an image share one).
            first_view (Tensor, optional): ``(B,)`` bool, the first view of
                each image (PEDAL's anchors, the patch memory's update).
                Defaults to all rows.

        Returns:
            dict[str, Tensor]: ``loss_patch`` and / or ``loss_image``.
        """
        if self.num_instances == 0:
            raise RuntimeError('PatchHead: the patch memory is empty: is '
                               'InstanceMemoryHook in custom_hooks?')
        indices = indices.to(patch_feats.device).long()
        first = (torch.ones_like(indices, dtype=torch.bool)
                 if first_view is None else first_view.to(indices.device))
        losses = {}
        if self.patch_loss is not None:
            losses['loss_patch'] = self.patch_loss(patch_feats[first],
                                                   self.patch_memory.bank,
                                                   indices[first])
        if self.image_loss is not None:
            embeds = self.embed(patch_feats)
            images, rows = torch.unique(indices, return_inverse=True)
            mean = embeds.new_zeros(images.numel(), embeds.shape[1])
            mean.index_add_(0, rows, embeds.detach())
            counts = torch.bincount(rows, minlength=images.numel())
            mean /= counts.unsqueeze(1).to(mean)
            agents = self.agent_memory(mean, images).to(embeds)
            losses['loss_image'] = self.image_loss(embeds, rows, agents)
            if self.training:
                self.agent_memory.record_pending_update(mean, images)
        if self.training:
            self.patch_memory.record_pending_update(patch_feats[first],
                                                    indices[first])
        return losses

    @torch.no_grad()
    def neighbour_stats(self,
                        pids: torch.Tensor,
                        chunk_size: int = 1024) -> Dict[str, float]:
        """Identity precision of the patch memory's nearest entries.

        Args:
            pids (Tensor): ``(N,)`` ground-truth identities (never used for
                training).
            chunk_size (int): Images per chunk. Defaults to 1024.

        Returns:
            dict[str, float]: ``patch_precision``: the fraction of each
            entry's ``k`` nearest entries (mean cosine over the patches,
            ``k`` of the patch loss, 10 without it) with its identity.
        """
        bank = self.patch_memory.bank
        pids = torch.as_tensor(pids).to(bank.device)
        k = self.patch_loss.num_neighbours if self.patch_loss else 10
        k = min(k, self.num_instances - 1)
        same, count = 0.0, 0
        for start in range(0, self.num_instances, chunk_size):
            idx = torch.arange(
                start, min(start + chunk_size, self.num_instances),
                device=bank.device)
            sims = torch.einsum('bsd,nsd->bn', bank[idx], bank)
            sims[torch.arange(idx.numel(), device=bank.device),
                 idx] = float('-inf')
            nbrs = sims.topk(k, dim=1).indices
            same += float((pids[nbrs] == pids[idx, None]).sum())
            count += nbrs.numel()
        return dict(patch_precision=same / max(count, 1))
