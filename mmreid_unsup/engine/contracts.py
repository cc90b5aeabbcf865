"""What the hooks and the train loop expect of the model, labeler, sampler
and dataset they drive, written once.

The engine finds its partners by what they offer, not by their class: a
model is any ``nn.Module`` with the methods of the contract a hook needs, a
sampler any sampler with the methods the hook calls. Each contract below is
a :class:`typing.Protocol` naming those methods and attributes, who calls
them and when. The runtime-checkable ones are tested with ``isinstance``
where offering the contract is optional (a hook then skips that step); the
others are required by the hook that names them and are not checked at run
time (a model without them fails at the call, as before).

:func:`find_sampler` is the one place that looks for the training sampler
behind a dataloader, and :func:`check_sampler_batch_size` the one check that
a sampler building its own batches agrees with its dataloader.

``isinstance`` against a runtime-checkable protocol only checks that the
members exist (and that methods are not None), not their signatures.
"""
from typing import (Any, Callable, Dict, Iterable, Optional, Protocol, Type,
                    TypeVar, runtime_checkable)

import numpy as np
import torch

__all__ = [
    'LabelledSampler', 'SkippableSampler', 'BatchBuildingSampler',
    'PseudoLabelledModel', 'EpochAwareModel', 'InstanceMemoryModel',
    'NeighbourStatsModel', 'PendingUpdateMemory', 'MemoryOwner',
    'LossCheckingModel', 'PseudoLabeler', 'PartnerLabeler', 'ProgressLabeler',
    'ShardingLabeler', 'ReIDDataset', 'find_sampler',
    'check_sampler_batch_size'
]

# -- samplers -----------------------------------------------------------------


@runtime_checkable
class LabelledSampler(Protocol):
    """A training sampler that draws from the current pseudo labels.

    Called by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` after
    every refresh and, after a resume, with the labels restored from the
    checkpoint. Offered by the ``CameraAwareIdentitySampler`` (cluster
    labels) and the ``PseudoPairSampler`` (partner matrices) of
    :mod:`mmreid_unsup.datasets.samplers`. Without it the hook warns that
    the labels reach the model only.
    """

    def set_labels(self, labels: Any, camids: Optional[Any] = None) -> None:
        """Take the labels of every dataset sample.

        Args:
            labels (Tensor | array-like): ``(N,)`` cluster labels (``-1``
                outliers) or ``(N, K)`` partners (``-1`` padding), on the
                CPU.
            camids (array-like, optional): ``(N,)`` cameras of the samples.
        """


@runtime_checkable
class SkippableSampler(Protocol):
    """A training sampler that can start an epoch after its first batches.

    Called by
    :class:`~mmreid_unsup.engine.runners.ResumableEpochBasedTrainLoop` when
    a run resumes inside an epoch. Offered by every sampler built on
    :class:`~mmreid_unsup.datasets.samplers.seeded_index.SeededBatchesMixin`.
    Without it the loop loads and drops the batches already trained.
    """

    def skip_batches(self, num_batches: int) -> None:
        """Make the next iteration start at this rank's batch
        ``num_batches``."""


@runtime_checkable
class BatchBuildingSampler(Protocol):
    """A sampler that lays out whole batches (``P`` identities x ``K``
    images, pairs, ...), so it must know the batch size.

    Read by :func:`check_sampler_batch_size`, which
    :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` and
    :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook` run so that the
    sampler's batch size equals its dataloader's. Offered by the samplers
    of :mod:`mmreid_unsup.datasets.samplers`.

    Attributes:
        batch_size (int): Images per batch the sampler lays out.
    """

    batch_size: int


# -- models -------------------------------------------------------------------


class PseudoLabelledModel(Protocol):
    """A model trained on per-epoch pseudo labels.

    Required by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook`,
    which reads ``pseudo_labels`` (to resume without re-labelling and as the
    previous labels of its degenerate-label policy) and calls
    ``set_pseudo_labels`` after every refresh, on every rank. Offered by
    :class:`~mmreid_unsup.models.BaseReIDModel`.

    Attributes:
        pseudo_labels (Tensor): The buffer of the current labels, ``(N,)``
            or ``(N, K)``; empty before the first refresh.
    """

    pseudo_labels: torch.Tensor

    def set_pseudo_labels(self, labels: torch.Tensor,
                          features: torch.Tensor) -> None:
        """Store the labels and re-initialise the memories from the
        features the labels were computed from.

        Args:
            labels (Tensor): ``(N,)`` or ``(N, K)`` labels.
            features (Tensor): ``(N, D)`` extracted features, dataset order.
        """


@runtime_checkable
class EpochAwareModel(Protocol):
    """A model whose losses change with the epoch (warm-ups, schedules).

    Called by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` and
    :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook` before every
    train epoch, when the model offers it (SCL, GSL, PPSSL).
    """

    def set_epoch(self, epoch: int) -> None:
        """Take the current 0-based epoch."""


class InstanceMemoryModel(Protocol):
    """A model with one memory entry per training image (SCL, GSL).

    Required by :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook`,
    which reads ``num_memory_instances`` before every train epoch and calls
    ``init_memories`` on every rank when the memories are empty or belong
    to another training set.

    Attributes:
        num_memory_instances (int): Entries of the memories, 0 when empty.
    """

    num_memory_instances: int

    def init_memories(self, features: torch.Tensor,
                      camids: torch.Tensor) -> None:
        """Fill the memories from the training set.

        Args:
            features (Tensor): ``(N, D)`` extracted features, dataset order.
            camids (Tensor): ``(N,)`` their cameras.
        """


@runtime_checkable
class NeighbourStatsModel(Protocol):
    """A model that can rate the neighbours it selects against true ids.

    Called by :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook` after
    every train epoch when the model offers it and the training set has
    true identities (diagnostics only).
    """

    def neighbour_stats(self, pids: torch.Tensor) -> Dict[str, float]:
        """Statistics of the selected neighbours, by name.

        Args:
            pids (Tensor): ``(N,)`` true identities of the training set.

        Returns:
            dict[str, float]: logged as ``train/<name>``.
        """


class PendingUpdateMemory(Protocol):
    """A memory whose forward pass records its momentum update.

    Called by :class:`~mmreid_unsup.engine.hooks.MemoryMomentumHook` after
    every optimizer step. Offered by
    :class:`~mmreid_unsup.models.memories.BaseMemory`.
    """

    def apply_pending_update(self) -> None:
        """Apply the recorded update of every rank, then forget it."""


class MemoryOwner(Protocol):
    """A model with memories (every re-ID model of the toolbox).

    Required by :class:`~mmreid_unsup.engine.hooks.MemoryMomentumHook`
    after every train iteration. Offered by
    :class:`~mmreid_unsup.models.BaseReIDModel`.
    """

    def memories(self) -> Iterable[PendingUpdateMemory]:
        """Every memory of the model."""


@runtime_checkable
class LossCheckingModel(Protocol):
    """A model whose ``parse_losses`` calls a check of the parsed losses.

    MMEngine's ``train_step`` parses the loss dict (``parse_losses``), then
    runs backward and the optimizer step: the per-term losses exist before
    the step only there. :class:`~mmreid_unsup.engine.hooks.NonFiniteLossHook`
    installs its check for the run (and removes it after), so that a
    non-finite loss stops training before backward. Offered by
    :class:`~mmreid_unsup.models.BaseReIDModel`. Without it the hook checks
    the logged losses after the step only.
    """

    def set_loss_check(
            self, check: Optional[Callable[[Dict[str, torch.Tensor]],
                                           None]]) -> None:
        """Call ``check(log_vars)`` in every ``parse_losses`` from now on,
        after the losses are parsed and before they are returned; None
        removes it."""


# -- labelers -----------------------------------------------------------------


class PseudoLabeler(Protocol):
    """A pseudo labeler (``PSEUDO_LABELERS``).

    Required by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook`,
    which calls it at every refresh, on rank 0 (or on every rank, for a
    :class:`ShardingLabeler`), and logs rank 0's ``last_stats``. Offered by
    :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`.

    Attributes:
        last_stats (dict): Counts of the last call and, per stage,
            ``time_<stage>`` and ``peak_mem_<stage>``.
    """

    last_stats: Dict[str, float]

    def __call__(self, features: torch.Tensor,
                 camids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Labels of the features: ``(N,)`` (``-1`` outliers) or, for a
        :class:`PartnerLabeler`, ``(N, K)`` partners (``-1`` padding)."""


@runtime_checkable
class PartnerLabeler(Protocol):
    """A labeler whose labels are each image's partners, not a cluster id.

    Read by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook`, which
    allocates the ``(N, label_width)`` buffer the labels are broadcast in.
    Offered by :class:`~mmreid_unsup.pseudo_labels.PseudoPairLabeler`.

    Attributes:
        label_width (int): ``K``, partners per image.
    """

    label_width: int


@runtime_checkable
class ProgressLabeler(Protocol):
    """A labeler that can show a progress bar per stage.

    Set by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` from its
    own ``progress`` when the labeler config leaves it out. Offered by
    :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`.

    Attributes:
        progress (bool): Show the bars.
    """

    progress: bool


@runtime_checkable
class ShardingLabeler(Protocol):
    """A labeler that can split one labelling over the ranks of a process
    group.

    Read by :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` under
    DDP: when ``shards_across_ranks`` is True it calls
    ``labeler(features, camids, across_ranks=True)`` on every rank, with
    the same gathered features, and each rank computes a share of the work
    and returns the same labels; otherwise the labeler runs on rank 0 and
    the hook broadcasts its labels. Offered by
    :class:`~mmreid_unsup.pseudo_labels.BaseLabeler` (False) and
    :class:`~mmreid_unsup.pseudo_labels.DBSCANLabeler` (True on its sparse
    path).

    Attributes:
        shards_across_ranks (bool): Whether a call with
            ``across_ranks=True`` splits the work.
    """

    shards_across_ranks: bool

    def __call__(self,
                 features: torch.Tensor,
                 camids: Optional[torch.Tensor] = None,
                 across_ranks: bool = False) -> torch.Tensor:
        """Labels of the features, the same on every rank when
        ``across_ranks`` (a collective call: every rank must make it)."""


# -- datasets -----------------------------------------------------------------


@runtime_checkable
class ReIDDataset(Protocol):
    """What the hooks read of a training set besides its samples.

    ``get_camids`` is called by
    :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` (labeler input,
    sampler) and :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook`
    (memory initialisation); ``get_pids`` by both for diagnostics against
    the true identities. Offered by
    :class:`~mmreid_unsup.datasets.BaseReIDDataset`.
    """

    def get_pids(self) -> np.ndarray:
        """``(N,)`` true identities (``-1`` where unknown)."""

    def get_camids(self) -> np.ndarray:
        """``(N,)`` 0-based cameras."""


# -- finding them -------------------------------------------------------------

ContractT = TypeVar('ContractT')


def find_sampler(dataloader: Any,
                 contract: Type[ContractT]) -> Optional[ContractT]:
    """The sampler behind a dataloader that offers a contract.

    Looks at the dataloader's ``sampler``, then at its batch sampler's
    ``sampler`` (the one a dataloader built with a ``batch_sampler`` draws
    from).

    Args:
        dataloader (DataLoader): Usually ``runner.train_dataloader``.
        contract (type): A runtime-checkable protocol of this module, e.g.
            :class:`LabelledSampler`.

    Returns:
        The first sampler that offers ``contract``, or None.
    """
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    for sampler in (getattr(dataloader, 'sampler', None),
                    getattr(batch_sampler, 'sampler', None)):
        if isinstance(sampler, contract):
            return sampler
    return None


def check_sampler_batch_size(sampler: Any, dataloader: Any,
                             owner: str) -> None:
    """Refuse a batch-building sampler whose batch size is not its
    dataloader's.

    Args:
        sampler: The training sampler (from :func:`find_sampler`), or None.
        dataloader (DataLoader): Its dataloader.
        owner (str): Who checks, first word of the message.

    Raises:
        ValueError: When ``sampler`` is a :class:`BatchBuildingSampler`
            whose ``batch_size`` differs from ``dataloader.batch_size``.
    """
    if (isinstance(sampler, BatchBuildingSampler)
            and sampler.batch_size != dataloader.batch_size):
        raise ValueError(
            f'{owner}: train_dataloader.sampler.batch_size='
            f'{sampler.batch_size} differs from train_dataloader.batch_size='
            f'{dataloader.batch_size}; set both to the same value')
