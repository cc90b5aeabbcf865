"""PPSSL's losses: patch surrogate classes, pseudo pairs, self-similarity."""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class PPSSLHead(BaseModule):
    """Pseudo-pair based self-similarity learning (Wu et al., TIP 2022).

    Two instance memories (model buffers, one entry per training image,
    moved by momentum after each optimizer step by ``MemoryMomentumHook``):
    ``patch_memory`` ``(N, P, D)`` of the patch embeddings and
    ``global_memory`` ``(N, Dg)`` of the global embedding. The losses of a
    batch with memory indices ``i`` and pseudo partners ``partners[i]``:

    - ``loss_patch`` (stage A: *patch surrogate classes*): every patch of
      every image is its own class, a softmax over the ``N`` entries of its
      patch position's memory with the image's own entry as the target. From
      ``pair_start_epoch`` on (stage B) the image's pseudo partners are
      positives too (``patch_loss`` is a
      :class:`~mmreid_unsup.models.losses.MultiPositiveMemoryLoss`).
    - ``loss_global``: the same on the global memory (instance
      discrimination in stage A, self + partners in stage B).
    - ``loss_intra`` (intra-similarity): the patches' attended vectors
      ``l_p`` of one image should differ, so that the channel attention
      finds diverse local features: the mean of ``cos(l_p, l_q)^2`` over
      ``p != q``, times ``intra_weight``.
    - ``loss_inter`` (inter-similarity, stage B): each anchor with a pseudo
      partner in the batch is aligned to it by the
      :class:`~mmreid_unsup.models.layers.CrossImageAlignment` module (a
      non-local block over the pair, a deformable convolution) and their
      patch-wise similarity ``s_ap`` is pulled to 1, while the anchor's
      hardest in-batch non-partner (highest global similarity), aligned the
      same way, is pushed below ``inter_margin``::

          loss_inter = inter_weight * (mean(1 - s_ap)
                                       + mean(relu(s_an - inter_margin)))

    Set ``intra_weight`` or ``inter_weight`` to 0 (and ``alignment`` to
    None) for the ablations; ``pair_start_epoch`` larger than the schedule
    trains with surrogate classes only.

    Args:
        patch_memory (dict): Config of the patch ``InstanceMemory``.
        global_memory (dict): Config of the global ``InstanceMemory``.
        patch_loss (dict): Loss on the patch memory similarities.
        global_loss (dict): Loss on the global memory similarities.
        alignment (dict, optional): Config of the inter-similarity module;
            None disables ``loss_inter``.
        pair_start_epoch (int): First epoch of stage B (the 0-based epoch
            from which pseudo partners are used). Defaults to 5.
        intra_weight (float): ``lambda_1``. Defaults to 0.1.
        inter_weight (float): ``lambda_2``. Defaults to 0.5.
        inter_margin (float): Defaults to 0.3.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 patch_memory: dict = dict(
                     type='InstanceMemory',
                     feat_dim=256,
                     num_parts=6,
                     momentum=0.5),
                 global_memory: dict = dict(
                     type='InstanceMemory', feat_dim=2048, momentum=0.5),
                 patch_loss: dict = dict(
                     type='MultiPositiveMemoryLoss',
                     temperature=0.05,
                     self_weight=1.0,
                     neighbour_weight=1.0),
                 global_loss: dict = dict(
                     type='MultiPositiveMemoryLoss',
                     temperature=0.05,
                     self_weight=1.0,
                     neighbour_weight=1.0),
                 alignment: Optional[dict] = dict(
                     type='CrossImageAlignment', in_channels=2048),
                 pair_start_epoch: int = 5,
                 intra_weight: float = 0.1,
                 inter_weight: float = 0.5,
                 inter_margin: float = 0.3,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if intra_weight < 0 or inter_weight < 0:
            raise ValueError('PPSSLHead: intra_weight and inter_weight must '
                             f'be >= 0, got {intra_weight}, {inter_weight}')
        if pair_start_epoch < 0:
            raise ValueError('PPSSLHead: pair_start_epoch must be >= 0, got '
                             f'{pair_start_epoch}')
        self.patch_memory = MODELS.build(patch_memory)
        self.global_memory = MODELS.build(global_memory)
        if self.patch_memory.num_parts is None:
            raise ValueError('PPSSLHead: patch_memory needs num_parts (one '
                             'entry per patch position)')
        self.patch_loss = MODELS.build(patch_loss)
        self.global_loss = MODELS.build(global_loss)
        self.alignment = (
            MODELS.build(alignment)
            if alignment is not None and inter_weight > 0 else None)
        self.pair_start_epoch = pair_start_epoch
        self.intra_weight = intra_weight
        self.inter_weight = inter_weight
        self.inter_margin = inter_margin

    @property
    def num_instances(self) -> int:
        """Entries of the memories (0 before :meth:`init_memories`)."""
        return self.global_memory.num_instances

    def init_memories(self, global_feats: torch.Tensor,
                      patch_feats: torch.Tensor) -> None:
        """(Re-)initialise both memories from the training set.

        Args:
            global_feats (Tensor): ``(N, Dg)`` normalised global features.
            patch_feats (Tensor): ``(N, P, D)`` normalised patch features.
        """
        if global_feats.shape[0] != patch_feats.shape[0]:
            raise ValueError(
                f'PPSSLHead.init_memories: {global_feats.shape[0]} global '
                f'and {patch_feats.shape[0]} patch features')
        self.global_memory.init_from_features(global_feats)
        self.patch_memory.init_from_features(patch_feats)

    def positives(self, indices: torch.Tensor, partners: torch.Tensor,
                  epoch: int) -> torch.Tensor:
        """Memory columns of each anchor's positives.

        Args:
            indices (Tensor): ``(B,)`` memory indices of the batch.
            partners (Tensor): ``(B, K)`` their pseudo partners, ``-1``
                padding.
            epoch (int): The 0-based epoch.

        Returns:
            Tensor: ``(B, 1)`` (stage A) or ``(B, 1 + K)`` (stage B).
        """
        if epoch < self.pair_start_epoch:
            return indices[:, None]
        return torch.cat([indices[:, None], partners], dim=1)

    @staticmethod
    def diversity(attended: torch.Tensor) -> torch.Tensor:
        """Mean squared cosine between different patches of one image.

        Args:
            attended (Tensor): ``(B, P, C)`` attended patch vectors.

        Returns:
            Tensor: A scalar in ``[0, 1]`` (0 for ``P = 1``).
        """
        num_patches = attended.size(1)
        if num_patches < 2:
            return attended.sum() * 0.0
        unit = F.normalize(attended, dim=2)
        gram = unit @ unit.transpose(1, 2)
        off_diagonal = ~torch.eye(
            num_patches, dtype=torch.bool, device=gram.device)
        return gram[:, off_diagonal].pow(2).mean()

    @staticmethod
    def batch_pairs(indices: torch.Tensor, partners: torch.Tensor,
                    global_feats: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """In-batch positive and hardest negative of each anchor.

        Args:
            indices (Tensor): ``(B,)`` memory indices.
            partners (Tensor): ``(B, K)`` pseudo partners, ``-1`` padding.
            global_feats (Tensor): ``(B, Dg)`` normalised global features.

        Returns:
            tuple[Tensor, Tensor, Tensor]: the anchors (batch positions with
            a partner and a non-partner in the batch), the batch position of
            each one's first (most similar) partner, and of its most similar
            non-partner.
        """
        # is_partner[a, k, b]: batch image b is a's k-th partner.
        is_partner = partners[:, :, None] == indices[None, None, :]
        is_partner &= partners[:, :, None] >= 0
        partner_mask = is_partner.any(dim=1)
        rank = torch.arange(partners.size(1), device=partners.device)
        # The first partner column present in the batch.
        first_col = torch.where(is_partner.any(dim=2), rank,
                                partners.size(1)).min(dim=1).values
        same = indices[:, None] == indices[None, :]
        negatives = ~(partner_mask | same)
        anchors = torch.nonzero(
            partner_mask.any(dim=1) & negatives.any(dim=1)).flatten()
        positive = is_partner[anchors, first_col[anchors]].int().argmax(
            dim=1)
        sims = (global_feats @ global_feats.t()).detach()
        negative = sims[anchors].masked_fill(~negatives[anchors],
                                             float('-inf')).argmax(dim=1)
        return anchors, positive, negative

    def _inter_loss(self, maps: torch.Tensor, global_feats: torch.Tensor,
                    indices: torch.Tensor, partners: torch.Tensor,
                    epoch: int) -> Dict[str, torch.Tensor]:
        """``loss_inter`` and ``num_inter_pairs`` (see the class doc).

        Without pairs (stage A, or no partner in the batch) the loss is a
        zero that still reaches every parameter of the alignment module, so
        DDP finds no unused parameter.
        """
        anchors = indices.new_zeros(0)
        if epoch >= self.pair_start_epoch:
            anchors, positive, negative = self.batch_pairs(
                indices, partners, global_feats)
        if anchors.numel():
            sims = self.alignment(maps[anchors].repeat(2, 1, 1, 1),
                                  maps[torch.cat([positive, negative])])
            sim_pos, sim_neg = sims.chunk(2)
            loss = self.inter_weight * (
                (1 - sim_pos).mean() +
                F.relu(sim_neg - self.inter_margin).mean())
        else:
            loss = sum(p.sum() for p in self.alignment.parameters()) * 0.0
        return dict(
            loss_inter=loss,
            num_inter_pairs=global_feats.new_tensor(float(anchors.numel())))

    def loss(self, maps: torch.Tensor, global_feats: torch.Tensor,
             attended: torch.Tensor, patch_feats: torch.Tensor,
             indices: torch.Tensor, partners: torch.Tensor,
             epoch: int) -> Dict[str, torch.Tensor]:
        """The losses of a batch; records the memory updates.

        Args:
            maps (Tensor): ``(B, C, H, W)`` backbone maps.
            global_feats (Tensor): ``(B, Dg)`` normalised global features.
            attended (Tensor): ``(B, P, C)`` attended patch vectors.
            patch_feats (Tensor): ``(B, P, D)`` normalised patch features.
            indices (Tensor): ``(B,)`` memory indices (``sample_idx``).
            partners (Tensor): ``(B, K)`` pseudo partners, ``-1`` padding.
            epoch (int): The 0-based epoch.

        Returns:
            dict[str, Tensor]: ``loss_patch``, ``loss_global``,
            ``loss_intra`` (when ``intra_weight > 0``), ``loss_inter`` (in
            stage B with an alignment module), and the logged (not
            optimised) ``acc_global`` (own entry most similar) and
            ``num_inter_pairs``.
        """
        if self.num_instances == 0:
            raise RuntimeError(
                'PPSSLHead: the memories are empty: is ClusterRefreshHook '
                '(with PseudoPairLabeler) in custom_hooks?')
        positives = self.positives(indices, partners, epoch)
        num_patches = patch_feats.size(1)
        patch_sims = torch.einsum('bpd,npd->bpn', patch_feats,
                                  self.patch_memory.bank)
        losses = dict(
            loss_patch=self.patch_loss(
                patch_sims.flatten(0, 1),
                positives.repeat_interleave(num_patches, dim=0)))
        global_sims = global_feats @ self.global_memory.bank.t()
        losses['loss_global'] = self.global_loss(global_sims, positives)
        if self.intra_weight > 0:
            losses['loss_intra'] = self.intra_weight * self.diversity(
                attended)
        if self.alignment is not None:
            losses.update(
                self._inter_loss(maps, global_feats, indices, partners,
                                 epoch))
        losses['acc_global'] = (global_sims.argmax(1) == indices).float(
        ).mean()
        if self.training:
            self.patch_memory.record_pending_update(patch_feats, indices)
            self.global_memory.record_pending_update(global_feats, indices)
        return losses
