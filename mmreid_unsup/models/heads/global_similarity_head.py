"""GSL's global branch: an instance memory as a non-parametric classifier,
credible samples, and the global similarity-based loss."""
from typing import Dict, Optional, Union

import torch
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class GlobalSimilarityHead(BaseModule):
    """The global similarity-based loss (GSL) over credible samples.

    The memory-based non-parametric classifier of GSL (Sun, Zhao, Wu, ICIP
    2021), as interpreted in ``research-notes/METHODS.md`` section 3.3: an
    :class:`~mmreid_unsup.models.memories.InstanceMemory` ``V`` ``(N, D)``
    holds one unit vector per training image, each image is its own class,
    and ``p(j | x) = softmax_j(v_j . x / tau)`` over the whole memory. With
    ``C(i)`` the credible samples of image ``i`` (the ``selector``, a
    :class:`~mmreid_unsup.models.sample_selectors.CredibleSampleSelector`)
    the loss of
    a feature ``x`` of image ``i`` is::

        L = - self_weight * log p(i | x)
            - neighbour_weight * sum_{j in C(i)} w_ij * log p(j | x)

    with ``w_ij`` uniform (``1 / |C(i)|``) or similarity-weighted: the
    shared :class:`~mmreid_unsup.models.losses.MultiPositiveMemoryLoss` with
    the whole memory as candidates. Every view of an image (an augmented
    copy included) is a feature ``x`` of it.

    After the optimizer step ``MemoryMomentumHook`` moves each image's entry
    towards the features of the batch rows flagged in ``update_mask`` (the
    first view of each image): ``v_i <- normalize(m v_i + (1 - m) x)``.

    Args:
        memory (dict): Config of ``V``. Defaults to a 2048-d
            ``InstanceMemory`` with momentum 0.5.
        selector (dict): Config of the credible-sample selector
            (``MODELS``). Defaults to
            ``dict(type='CredibleSampleSelector')``.
        loss (dict): Config of the loss. Defaults to
            ``MultiPositiveMemoryLoss`` with ``temperature=0.05``,
            ``self_weight=1`` and ``neighbour_weight=1``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 memory: dict = dict(
                     type='InstanceMemory', feat_dim=2048, momentum=0.5),
                 selector: dict = dict(type='CredibleSampleSelector'),
                 loss: dict = dict(
                     type='MultiPositiveMemoryLoss',
                     temperature=0.05,
                     self_weight=1.0,
                     neighbour_weight=1.0),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.memory = MODELS.build(memory)
        if getattr(self.memory, 'num_parts', None) is not None:
            raise ValueError('GlobalSimilarityHead: the memory holds one '
                             'vector per image (num_parts=None)')
        self.selector = MODELS.build(selector)
        self.loss_module = MODELS.build(loss)

    @property
    def feat_dim(self) -> int:
        """Dimension of the global feature."""
        return self.memory.feat_dim

    @property
    def num_instances(self) -> int:
        """Entries of the memory (0 before :meth:`init_memory`)."""
        return self.memory.num_instances

    def init_memory(self, feats: torch.Tensor) -> None:
        """Fill the memory from the training set's features ``(N, D)``."""
        self.memory.init_from_features(feats)

    def select(self,
               indices: torch.Tensor,
               epoch: int = 0,
               patch_bank: Optional[torch.Tensor] = None,
               camids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The selector's ``(B, 1 + k)`` positives (see its ``select``)."""
        if self.num_instances == 0:
            raise RuntimeError(
                'GlobalSimilarityHead: the memory is empty: is '
                'InstanceMemoryHook in custom_hooks?')
        return self.selector.select(indices, self.memory.bank, epoch,
                                    patch_bank, camids)

    def loss(self,
             feats: torch.Tensor,
             indices: torch.Tensor,
             update_mask: Optional[torch.Tensor] = None,
             epoch: int = 0,
             patch_bank: Optional[torch.Tensor] = None,
             camids: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """The loss of a batch; records the memory update.

        Args:
            feats (Tensor): ``(B, D)`` L2-normalised global features.
            indices (Tensor): ``(B,)`` their images' memory entries.
            update_mask (Tensor, optional): ``(B,)`` bool, the rows that
                move the memory. Defaults to all rows.
            epoch (int): The current 0-based epoch. Defaults to 0.
            patch_bank (Tensor, optional): The patch memory, for a selector
                with the ``'patch'`` rule.
            camids (Tensor, optional): ``(N,)`` cameras of the memory
                entries, for a selector with a camera penalty.

        Returns:
            dict[str, Tensor]: ``loss_global``; ``credible_per_image``, the
            mean number of credible samples (logged, not optimised); and
            ``acc_global``, how often the image's own entry is the most
            similar one (logged).
        """
        indices = indices.to(feats.device).long()
        positives = self.select(indices, epoch, patch_bank,
                                camids).to(feats.device)
        sims = self.memory(feats)
        loss = self.loss_module(sims, positives)
        if self.training:
            mask = (torch.ones_like(indices, dtype=torch.bool)
                    if update_mask is None else update_mask.to(feats.device))
            self.memory.record_pending_update(feats[mask], indices[mask])
        return dict(
            loss_global=loss,
            credible_per_image=(positives[:, 1:] >= 0).sum(1).float().mean(),
            acc_global=(sims.argmax(1) == indices).float().mean())

    @torch.no_grad()
    def neighbour_stats(self,
                        pids: torch.Tensor,
                        camids: Optional[torch.Tensor] = None,
                        patch_bank: Optional[torch.Tensor] = None,
                        chunk_size: int = 256) -> Dict[str, float]:
        """How good the credible samples are, for diagnostics.

        Every memory entry is taken as an image and its credible samples
        are selected as after the warm-up.

        Args:
            pids (Tensor): ``(N,)`` ground-truth identities (never used for
                training).
            camids (Tensor, optional): ``(N,)`` cameras, for the camera
                penalty and ``credible_cross_camera``.
            patch_bank (Tensor, optional): For the ``'patch'`` rule.
            chunk_size (int): Images per chunk. Defaults to 256.

        Returns:
            dict[str, float]: ``credible_precision`` (the fraction of
            credible samples with the image's identity), ``credible_per_image``
            and, with ``camids``, ``credible_cross_camera``.
        """
        bank = self.memory.bank
        pids = torch.as_tensor(pids).to(bank.device)
        epoch = self.selector.warmup_epochs
        same, cross, count = 0.0, 0.0, 0
        for start in range(0, self.num_instances, chunk_size):
            idx = torch.arange(
                start, min(start + chunk_size, self.num_instances),
                device=bank.device)
            credible = self.select(idx, epoch, patch_bank, camids)[:, 1:]
            valid = credible >= 0
            anchors = idx.unsqueeze(1).expand_as(credible)[valid]
            credible = credible[valid]
            same += float((pids[credible] == pids[anchors]).sum())
            if camids is not None:
                cams = torch.as_tensor(camids).to(bank.device)
                cross += float((cams[credible] != cams[anchors]).sum())
            count += credible.numel()
        stats = dict(
            credible_precision=same / max(count, 1),
            credible_per_image=count / max(self.num_instances, 1))
        if camids is not None:
            stats['credible_cross_camera'] = cross / max(count, 1)
        return stats
