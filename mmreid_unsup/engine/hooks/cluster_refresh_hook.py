"""Re-label the training set from the current model's features."""
import time
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.dist import broadcast, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmreid_unsup.pseudo_labels import (DegenerateLabelPolicy,
                                        cluster_label_stats,
                                        pseudo_label_quality,
                                        pseudo_pair_quality)
from mmreid_unsup.registry import HOOKS, PSEUDO_LABELERS
from mmreid_unsup.utils.bad_features import find_bad_feature_rows
from .train_set_state import TrainSetStateMixin
from ..contracts import (EpochAwareModel, LabelledSampler, PartnerLabeler,
                         ProgressLabeler, PseudoLabelledModel, PseudoLabeler,
                         ReIDDataset, ShardingLabeler,
                         check_sampler_batch_size, find_sampler)
from ..feature_extraction import extract_train_set_features, unwrap_model
from ..runners.reid_runner import is_resuming

#: Key of the hook's state in a checkpoint's ``meta``.
META_KEY = 'pseudo_labels'


@HOOKS.register_module()
class ClusterRefreshHook(TrainSetStateMixin, Hook):
    """Refresh the pseudo labels before every ``interval``-th train epoch.

    The refresh extracts the training set's features with the test pipeline
    (each rank its shard, gathered in dataset order), runs the pseudo
    labeler, gives every rank its labels, writes them into the model
    (``set_pseudo_labels``, which also re-initialises the memory from the
    same features) and gives them to the identity sampler. Under DDP a
    labeler that can split its work (a ``ShardingLabeler`` whose
    ``shards_across_ranks`` is True: ``DBSCANLabeler``'s sparse path) runs
    on every rank, each rank computing a share of the kNN search, the
    encoding and the Jaccard graph, and returns the same labels on every
    rank; any other labeler (InfoMap, k-means, pseudo pairs) runs on rank 0
    while the other ranks wait, then rank 0 broadcasts its labels.

    The labels live in the model's ``pseudo_labels`` buffer and the epoch they
    were computed for in the checkpoint's ``meta``, so ``--resume`` continues
    with the restored labels and memory when no refresh is due, instead of
    silently re-clustering. The checkpoint also records the training set's
    fingerprint (:func:`~mmreid_unsup.datasets.dataset_fingerprint`): when
    a run is resumed on a set with other images (some added, some dropped
    by ``bad_data='skip'``, another order), the hook says so in a warning
    and re-clusters before the next epoch instead of pairing the restored
    labels with the wrong images.

    Labels are cluster ids ``(N,)`` or, for a labeler with a ``label_width``
    ``K`` (PPSSL's :class:`~mmreid_unsup.pseudo_labels.PseudoPairLabeler`),
    a ``(N, K)`` matrix of each sample's partners (``-1`` padding). Before
    every train epoch the hook also calls ``model.set_epoch(epoch)`` when
    the model has it (methods whose losses change with the epoch).

    What the hook needs of its partners is written in
    :mod:`mmreid_unsup.engine.contracts`: the model is a
    ``PseudoLabelledModel`` (and maybe an ``EpochAwareModel``), the labeler
    a ``PseudoLabeler`` (a ``PartnerLabeler`` for partner matrices, maybe a
    ``ShardingLabeler``), the training sampler a ``LabelledSampler`` and
    the datasets are ``ReIDDataset``.

    Args:
        labeler (dict): Config of the pseudo labeler (``PSEUDO_LABELERS``).
        dataloader (dict | DataLoader, optional): The training set with the
            *test* pipeline, for feature extraction. Its dataset must list the
            same samples in the same order as the training dataloader's.
            Defaults to the config's top-level ``cluster_dataloader``, which
            every ``configs/_base_/datasets`` file defines.
        interval (int): Refresh every ``interval`` epochs. Defaults to 1.
        start_epoch (int): First epoch with a refresh. Defaults to 0.
        progress (bool): Show a progress bar during extraction and, unless
            the labeler config sets its own ``progress``, during each stage
            of the labeler.
        on_no_clusters (str): What a refresh trains on when no cluster has
            two or more samples: ``'keep_previous'`` (the previous refresh's
            labels, or one class per sample when there are none),
            ``'instances'`` (one class per sample) or ``'error'`` (stop).
            Defaults to ``'keep_previous'``.
        giant_cluster_fraction (float): Warn when one cluster holds more
            than this share of the training set. Defaults to 0.5.

    Degenerate cluster labels never stop a run unless asked to
    (:class:`~mmreid_unsup.pseudo_labels.DegenerateLabelPolicy`), and each
    case is logged as a warning that names the problem and the policy:
    every sample an outlier (``on_no_clusters``); one giant cluster
    (training continues); fewer trainable clusters than the sampler's
    identities per batch, or a single camera (the identity sampler's
    policies, see :class:`~mmreid_unsup.datasets.CameraAwareIdentitySampler`).
    Pseudo pair matrices ``(N, K)`` are passed through unchanged.

    Diagnostics: each refresh logs the number of clusters and outliers and,
    when the dataset has true ids (``get_pids()``), the ARI, NMI and
    pairwise precision / recall / F-score of the pseudo labels against them
    (outliers counted as singletons), to the message hub
    (``train/pseudo_<name>``) and to the logger. The labeler's per-stage
    wall time and peak memory (``time_<stage>``, ``peak_mem_<stage>`` in
    MiB, see :class:`~mmreid_unsup.pseudo_labels.StageProfiler`) go to the
    message hub as ``pseudo/<name>`` (kept out of the per-iteration log
    line) and to the logger. Every one of these values is also written to
    the visualizer backends (TensorBoard, W&B, local JSON) as
    ``pseudo/<name>`` with the epoch as the step. For cluster labels the
    values include ``num_trainable_clusters`` (clusters with two or more
    samples), ``largest_cluster_fraction``, ``num_cameras`` and the policy
    flags ``kept_previous_labels`` and ``instance_labels`` (1 when that
    policy applied), e.g. ``train/pseudo_largest_cluster_fraction``. Every
    refresh also counts the extracted feature rows no labeler can use,
    ``nonfinite_rows`` (a NaN or infinite element) and ``zero_rows`` (zero
    norm: the model's L2 normalisation keeps a zero row zero), e.g.
    ``train/pseudo_nonfinite_rows``; the labeler makes them outliers (its
    ``on_bad_features``, see :mod:`~mmreid_unsup.utils.bad_features`), and
    the memories are initialised with the non-finite rows set to zero, so
    that one NaN row cannot spread through a memory.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 labeler: dict,
                 dataloader: Union[dict, DataLoader, None] = None,
                 interval: int = 1,
                 start_epoch: int = 0,
                 progress: bool = True,
                 on_no_clusters: str = 'keep_previous',
                 giant_cluster_fraction: float = 0.5) -> None:
        if interval < 1:
            raise ValueError(
                f'ClusterRefreshHook: interval must be >= 1, got {interval}')
        try:
            self.policy = DegenerateLabelPolicy(on_no_clusters,
                                                giant_cluster_fraction)
        except ValueError as err:
            raise ValueError(f'ClusterRefreshHook: {err}') from None
        self.labeler: PseudoLabeler = PSEUDO_LABELERS.build(labeler)
        if 'progress' not in labeler and isinstance(self.labeler,
                                                    ProgressLabeler):
            self.labeler.progress = progress
        self._dataloader_cfg = dataloader
        self.interval = interval
        self.start_epoch = start_epoch
        self.progress = progress
        self.label_epoch: Optional[int] = None
        self._sampler_synced = False
        self._labels_stale = False

    # -- MMEngine hook points -------------------------------------------

    def before_train_epoch(self, runner: Runner) -> None:
        """Refresh labels when due, or hand restored ones to the sampler."""
        model: PseudoLabelledModel = unwrap_model(runner)
        num_samples = len(runner.train_dataloader.dataset)
        has_labels = (model.pseudo_labels.numel() > 0
                      and model.pseudo_labels.shape[0] == num_samples)
        epoch = runner.epoch
        if isinstance(model, EpochAwareModel):
            model.set_epoch(epoch)
        due = (epoch >= self.start_epoch
               and (epoch - self.start_epoch) % self.interval == 0)
        if ((due and self.label_epoch != epoch) or not has_labels
                or self._labels_stale):
            self.refresh(runner)
        elif not self._sampler_synced:
            runner.logger.info(
                f'ClusterRefreshHook: using the pseudo labels of epoch '
                f'{self.label_epoch} restored from the checkpoint '
                f'({self._describe(model.pseudo_labels)})')
            self._sync_sampler(runner, model.pseudo_labels)

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Record which epoch the labels in the model buffer belong to."""
        fingerprint = self.train_set_fingerprint(runner)
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            epoch=self.label_epoch,
            num_samples=fingerprint['num_samples'],
            train_set=fingerprint)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Restore the label epoch of a resumed run.

        Labels of a checkpoint loaded with ``load_from`` (another run, maybe
        another dataset) are not reused: only ``resume`` restores them, and
        only when the training set is still the one they were computed on.
        """
        state = checkpoint.get('meta', {}).get(META_KEY)
        if state is not None and is_resuming(runner):
            self.label_epoch = state.get('epoch')
            self._sampler_synced = False
            change = self.train_set_change(runner, state)
            self._labels_stale = change is not None
            if change is not None:
                runner.logger.warning(
                    'ClusterRefreshHook: not reusing the pseudo labels of '
                    f'the resumed checkpoint: {change}. Re-clustering before '
                    'the next epoch; the weights are kept.')

    # -- the refresh itself -----------------------------------------------

    def refresh(self, runner: Runner) -> torch.Tensor:
        """Extract, label (on rank 0 and broadcast, or split over the
        ranks), and write the labels.

        Args:
            runner (Runner): The runner.

        Returns:
            Tensor: The new labels, shape ``(N,)``.
        """
        model: PseudoLabelledModel = unwrap_model(runner)
        extracted = extract_train_set_features(
            runner, self._get_dataloader(runner), 'ClusterRefreshHook',
            progress=self.progress)
        dataset: ReIDDataset = extracted.dataloader.dataset
        feats, camids = extracted.features, extracted.camids
        timings: Dict[str, float] = dict(extract=extracted.seconds)

        labels, seconds = self.label_features(feats, camids)
        if seconds is not None:
            timings['label'] = seconds
        policy_flags: Dict[str, float] = {}
        if labels.dim() == 1:
            labels, policy_flags = self._apply_policy(runner, model, labels)

        bad = find_bad_feature_rows(feats)
        if bad.nonfinite.numel():
            runner.logger.warning(
                f'ClusterRefreshHook epoch {runner.epoch}: '
                f'{bad.describe("extracted feature rows")}; the memories '
                'are initialised with the non-finite rows set to zero')
            feats = feats.clone()
            feats[bad.nonfinite] = 0

        device = model.pseudo_labels.device
        model.set_pseudo_labels(labels.to(device), feats.to(device))
        self.label_epoch = runner.epoch
        self._labels_stale = False
        self._sync_sampler(runner, labels)
        self._log(runner, labels, dataset, timings,
                  {**policy_flags, **bad.stats()})
        return labels

    def label_features(
            self, feats: torch.Tensor,
            camids: torch.Tensor) -> Tuple[torch.Tensor, Optional[float]]:
        """Run the labeler where it runs and give every rank its labels.

        Every rank calls this with the same gathered features. A labeler
        that splits its work (a ``ShardingLabeler`` with
        ``shards_across_ranks``) is called on every rank with
        ``across_ranks=True`` and returns the same labels on every rank;
        any other runs on rank 0 only, which broadcasts its labels.

        Args:
            feats (Tensor): ``(N, D)`` features of the training set.
            camids (Tensor): ``(N,)`` their cameras.

        Returns:
            tuple[Tensor, float | None]: ``(N,)`` (or ``(N, K)`` for a
            ``PartnerLabeler``) int64 labels on the CPU, the same on every
            rank, and the labeler's wall time in seconds on the ranks that
            ran it (None on the others).
        """
        num = feats.size(0)
        width = (self.labeler.label_width
                 if isinstance(self.labeler, PartnerLabeler) else None)
        labels = torch.empty((num, ) if width is None else (num, width),
                             dtype=torch.long)
        seconds = None
        every_rank = (get_world_size() > 1
                      and isinstance(self.labeler, ShardingLabeler)
                      and self.labeler.shards_across_ranks)
        if every_rank or is_main_process():
            start = time.perf_counter()
            # A plain PseudoLabeler need not take the keyword.
            extra = dict(across_ranks=True) if every_rank else {}
            labels = self.labeler(feats, camids, **extra).long().cpu()
            seconds = time.perf_counter() - start
        if not every_rank:
            broadcast(labels, src=0)
        return labels, seconds

    # -- helpers ------------------------------------------------------------

    def _apply_policy(self, runner: Runner, model,
                      labels: torch.Tensor) -> Tuple[torch.Tensor, dict]:
        """Degenerate cluster labels -> trainable ones, with warnings.

        Every rank holds the same broadcast labels and the same previous
        labels (a model buffer), so every rank decides alike.
        """
        previous = model.pseudo_labels.cpu()
        decision = self.policy(
            labels, previous if previous.shape == labels.shape else None)
        for message in decision.warnings:
            runner.logger.warning(
                f'ClusterRefreshHook epoch {runner.epoch}: {message}')
        return decision.labels, dict(
            kept_previous_labels=float(decision.kept_previous),
            instance_labels=float(decision.instance_labels))

    def _sync_sampler(self, runner: Runner, labels: torch.Tensor) -> None:
        loader = runner.train_dataloader
        sampler = find_sampler(loader, LabelledSampler)
        check_sampler_batch_size(sampler, loader, 'ClusterRefreshHook')
        if sampler is None:
            runner.logger.warning(
                'ClusterRefreshHook: the training sampler has no '
                'set_labels(); pseudo labels reach the model but not the '
                'sampler')
        else:
            sampler.set_labels(labels.cpu(),
                               runner.train_dataloader.dataset.get_camids())
        self._sampler_synced = True

    @staticmethod
    def _describe(labels: torch.Tensor) -> str:
        labels = labels.cpu()
        if labels.dim() == 2:
            valid = labels >= 0
            return (f'{int(valid.sum())} pairs, '
                    f'{int(valid.any(1).sum())} images with a partner')
        num_clusters = int(labels.max()) + 1 if labels.numel() else 0
        num_outliers = int((labels < 0).sum())
        return f'{num_clusters} clusters, {num_outliers} outliers'

    def _log(self, runner: Runner, labels: torch.Tensor, dataset,
             timings: Dict[str, float],
             extra: Dict[str, float]) -> None:
        """Log cluster statistics, label quality, time and memory.

        ``extra`` holds the policy flags (cluster labels only) and the bad
        feature row counts (always).

        The per-stage statistics logged are rank 0's (the only ones when
        the labeler ran on rank 0 alone; its share of the work when the
        labeler split it over the ranks); the visualizer writes on rank 0
        only as well.
        """
        labels = labels.cpu().numpy()
        pids = np.asarray(dataset.get_pids())
        has_truth = pids.size and (pids >= 0).all()
        if labels.ndim == 2:  # pseudo pairs
            valid = labels >= 0
            scalars = dict(
                num_pairs=float(valid.sum()),
                anchors_with_partner=float(valid.any(1).mean()))
            if has_truth:
                scalars.update(
                    pseudo_pair_quality(labels, pids,
                                        np.asarray(dataset.get_camids())))
        else:
            scalars = cluster_label_stats(labels,
                                          np.asarray(dataset.get_camids()))
            if has_truth:
                scalars.update(pseudo_label_quality(labels, pids))
        scalars.update({name: float(value) for name, value in extra.items()})
        for name, value in timings.items():
            scalars[f'{name}_time'] = value
        stages = {}
        if is_main_process():
            stages = {
                key: float(value)
                for key, value in self.labeler.last_stats.items()
                if key.startswith(('time_', 'peak_mem_', 'peak_gpu_mem_'))
            }

        hub = runner.message_hub
        for name, value in scalars.items():
            hub.update_scalar(f'train/pseudo_{name}', value)
        for name, value in stages.items():
            hub.update_scalar(f'pseudo/{name}', value)
        runner.visualizer.add_scalars(
            {f'pseudo/{k}': v for k, v in {**scalars, **stages}.items()},
            step=runner.epoch)
        runner.logger.info(
            f'ClusterRefreshHook epoch {runner.epoch}: ' + ', '.join(
                f'{k}={v:.4g}' for k, v in scalars.items()))
        if stages:
            runner.logger.info(
                'ClusterRefreshHook labeler stages: ' + ', '.join(
                    f'{k}={v:.4g}{"MiB" if "mem" in k else "s"}'
                    for k, v in stages.items()))
