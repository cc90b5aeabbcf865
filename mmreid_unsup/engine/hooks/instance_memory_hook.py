"""Fill a model's instance memories once and keep it told of the epoch."""
import time
from typing import Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmreid_unsup.registry import HOOKS
from .train_set_state import TrainSetStateMixin
from ..contracts import (BatchBuildingSampler, EpochAwareModel,
                         InstanceMemoryModel, NeighbourStatsModel,
                         ReIDDataset, check_sampler_batch_size, find_sampler)
from ..feature_extraction import extract_train_set_features, unwrap_model
from ..runners.reid_runner import is_resuming

#: Key of the hook's state in a checkpoint's ``meta``.
META_KEY = 'instance_memory'


@HOOKS.register_module()
class InstanceMemoryHook(TrainSetStateMixin, Hook):
    """Initialise per-instance memories before training, set the epoch.

    For methods without clustering (SCL), whose memories hold one entry per
    training image and are never re-initialised. Before the first train
    epoch the hook extracts the training set's features with the test
    pipeline (each rank its shard, gathered in dataset order, so every rank
    gets the same features) and calls ``model.init_memories(features,
    camids)`` on every rank: nothing is random, so nothing is broadcast.
    Before every epoch it calls ``model.set_epoch(epoch)`` (warm-up
    schedules).

    The memories are model buffers, so ``--resume`` restores them; the hook
    records in the checkpoint's ``meta`` that they were initialised and does
    not re-initialise them after a resume, unless the training set's
    fingerprint (:func:`~mmreid_unsup.datasets.dataset_fingerprint`, also in
    the ``meta``) shows other images than the memories were filled from:
    then it warns and fills them afresh. A checkpoint loaded with
    ``load_from`` (fine-tuning) gets fresh memories.

    A training set from a single camera is not an error: the hook warns
    that camera terms have nothing to act on (a same-camera penalty then
    shifts every distance alike) and training continues.

    The model must offer ``init_memories(features, camids)`` and
    ``num_memory_instances`` (0 when empty), and may offer
    ``set_epoch(epoch)`` (the ``InstanceMemoryModel`` and
    ``EpochAwareModel`` contracts of :mod:`mmreid_unsup.engine.contracts`).

    Diagnostics: when the model offers ``neighbour_stats(pids)``
    (``NeighbourStatsModel``) and the
    training set has true identities (``get_pids()``), the statistics it
    returns for the memories at the end of each train epoch (for SCL, how
    many selected positives have the anchor's identity and how many come
    from another camera) go to the message hub as ``train/<name>``, to the
    visualizer as ``memory/<name>`` and to the logger. The ground truth is
    read for this log only.

    Args:
        dataloader (dict | DataLoader, optional): The training set with the
            *test* pipeline. Defaults to the config's top-level
            ``cluster_dataloader``, which every ``configs/_base_/datasets``
            file defines.
        progress (bool): Show a progress bar during extraction. Defaults to
            True.
        log_stats (bool): Log the model's ``neighbour_stats`` after each
            train epoch (see Diagnostics). Defaults to True.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 dataloader: Union[dict, DataLoader, None] = None,
                 progress: bool = True,
                 log_stats: bool = True) -> None:
        self._dataloader_cfg = dataloader
        self.progress = progress
        self.log_stats = log_stats
        self._ready = False

    def before_train(self, runner: Runner) -> None:
        """Check that the sampler and the dataloader agree on the batch."""
        loader = runner.train_dataloader
        check_sampler_batch_size(
            find_sampler(loader, BatchBuildingSampler), loader,
            'InstanceMemoryHook')

    def before_train_epoch(self, runner: Runner) -> None:
        """Initialise the memories if needed, then set the model's epoch."""
        model: InstanceMemoryModel = unwrap_model(runner)
        num_samples = len(runner.train_dataloader.dataset)
        if not self._ready or model.num_memory_instances != num_samples:
            self.init_memories(runner)
        if isinstance(model, EpochAwareModel):
            model.set_epoch(runner.epoch)

    def after_train_epoch(self, runner: Runner) -> None:
        """Log the model's neighbour statistics against the true ids."""
        model = unwrap_model(runner)
        if not (self.log_stats and isinstance(model, NeighbourStatsModel)):
            return
        dataset = runner.train_dataloader.dataset
        pids = np.asarray(dataset.get_pids()) if isinstance(
            dataset, ReIDDataset) else np.zeros(0)
        if pids.size == 0 or (pids < 0).any():
            return
        stats = model.neighbour_stats(torch.as_tensor(pids))
        for name, value in stats.items():
            runner.message_hub.update_scalar(f'train/{name}', value)
        runner.visualizer.add_scalars(
            {f'memory/{k}': v for k, v in stats.items()}, step=runner.epoch)
        runner.logger.info(
            f'InstanceMemoryHook epoch {runner.epoch}: ' +
            ', '.join(f'{k}={v:.4g}' for k, v in stats.items()))

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Mark the checkpoint's memories as initialised."""
        fingerprint = self.train_set_fingerprint(runner)
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            num_samples=fingerprint['num_samples'], train_set=fingerprint)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Trust the restored memories of a resumed run on the same set."""
        state = checkpoint.get('meta', {}).get(META_KEY)
        self._ready = state is not None and is_resuming(runner)
        if self._ready:
            change = self.train_set_change(runner, state)
            if change is not None:
                self._ready = False
                runner.logger.warning(
                    'InstanceMemoryHook: not reusing the instance memories '
                    f'of the resumed checkpoint: {change}. Filling them '
                    'afresh before the next epoch; the weights are kept.')

    def init_memories(self, runner: Runner) -> None:
        """Extract the training set's features and fill the memories."""
        model: InstanceMemoryModel = unwrap_model(runner)
        extracted = extract_train_set_features(
            runner, self._get_dataloader(runner), 'InstanceMemoryHook',
            progress=self.progress, desc='init memories')
        # The reported time runs from the start of the extraction.
        start = time.perf_counter() - extracted.seconds
        feats, camids = extracted.features, extracted.camids
        if camids.numel() and bool((camids == camids[0]).all()):
            runner.logger.warning(
                'InstanceMemoryHook: every training image comes from camera '
                f'{int(camids[0])}; policy: camera terms fall back to no '
                "effect (SCL's same-camera penalty lambda_c adds the same "
                'amount to every memory entry, so it changes no selection)')
        model.init_memories(feats, camids)
        self._ready = True
        seconds = time.perf_counter() - start
        runner.message_hub.update_scalar('train/memory_init_time', seconds)
        runner.logger.info(
            f'InstanceMemoryHook epoch {runner.epoch}: initialised the '
            f'memories of {len(feats)} instances in {seconds:.1f}s')
