"""A CheckpointHook after which a kill at any moment leaves a checkpoint to
resume from."""
import glob
import hashlib
import io
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import is_main_process, master_only
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils.atomic_io import atomic_write_bytes
from ..checkpoint_io import read_checkpoint

#: Name of the file that points ``--resume`` at the latest checkpoint.
LAST_CHECKPOINT_FILE = 'last_checkpoint'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with a crash-safe order of writes.

    Every checkpoint file is written atomically by the runner (a temporary
    file renamed into place, :meth:`~mmreid_unsup.engine.ReIDRunner.
    save_checkpoint`). MMEngine's hook (0.10) still has two windows in
    which a kill leaves nothing to resume from: it deletes the oldest kept
    checkpoint *before* writing the new one (with ``max_keep_ckpts=1`` a
    kill during the save leaves no checkpoint at all), and it rewrites
    ``last_checkpoint``, the file ``--resume`` reads, in place (a kill
    between truncating and writing leaves it empty). Every save of this
    hook goes through :meth:`save`: the new checkpoint first, then
    ``last_checkpoint`` pointed at it by an atomic rename, and only then
    the checkpoints beyond ``max_keep_ckpts`` deleted: at every moment
    ``last_checkpoint`` names a complete file. Temporary files left by a
    save that was killed are deleted when training starts.

    It decides when to save as MMEngine's hook does (``interval``,
    ``by_epoch``, ``save_last``, ``save_begin``), keeps the best checkpoint
    with MMEngine's ``save_best`` logic (re-saving the latest checkpoint
    through :meth:`save`), and publishes (``published_keys``) from
    checkpoints read safely. Only public hook points are overridden.

    Args: as :class:`mmengine.hooks.CheckpointHook`.
    """

    def before_train(self, runner: Runner) -> None:
        """Set up as MMEngine does, then drop the leftovers of killed saves.
        """
        super().before_train(runner)
        if not is_main_process():
            return
        for folder in {str(self.out_dir), str(runner.work_dir)}:
            if '://' in folder:
                continue
            for leftover in glob.glob(osp.join(folder, '.*.tmp')):
                os.remove(leftover)
                runner.logger.info(
                    f'{type(self).__name__}: removed {leftover}, the '
                    'temporary file of a save that did not finish')

    def after_train_epoch(self, runner: Runner) -> None:
        """Save every ``interval`` epochs from ``save_begin``, and after
        the last epoch with ``save_last`` (as MMEngine's hook)."""
        if not self.by_epoch:
            return
        if self.every_n_epochs(runner, self.interval, self.save_begin) or (
                self.save_last and self.is_last_train_epoch(runner)):
            runner.logger.info(
                f'Saving checkpoint at {runner.epoch + 1} epochs')
            step = runner.epoch + 1
            self.save(runner, step, meta=dict(epoch=step, iter=runner.iter))

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Save every ``interval`` iterations from ``save_begin``, and
        after the last one with ``save_last`` (``by_epoch=False``)."""
        if self.by_epoch:
            return
        if self.every_n_train_iters(runner, self.interval,
                                    self.save_begin) or (
                                        self.save_last
                                        and self.is_last_train_iter(runner)):
            runner.logger.info(
                f'Saving checkpoint at {runner.iter + 1} iterations')
            step = runner.iter + 1
            self.save(runner, step, meta=dict(epoch=runner.epoch, iter=step))

    def after_val_epoch(self, runner: Runner, metrics: Dict) -> None:
        """Keep the best checkpoint (``save_best``), as MMEngine's hook.

        When the best score improves, MMEngine re-saves the latest
        checkpoint (so that it records the new best); here that re-save
        goes through :meth:`save` (MMEngine's is held off by hiding
        ``last_ckpt`` from it for the call).
        """
        latest, self.last_ckpt = self.last_ckpt, None
        before = self._best_scores(runner)
        try:
            super().after_val_epoch(runner, metrics)
        finally:
            self.last_ckpt = latest
        if latest is not None and self._best_scores(runner) != before:
            step = runner.epoch if self.by_epoch else runner.iter
            self.save(
                runner, step, meta=dict(epoch=runner.epoch, iter=runner.iter))

    def after_train(self, runner: Runner) -> None:
        """Publish the last and best checkpoints (``published_keys``),
        reading them safely."""
        if self.published_keys is None:
            return
        paths: List[Optional[str]] = []
        if self.save_last:
            paths.append(self.last_ckpt)
        paths.append(getattr(self, 'best_ckpt_path', None))
        paths.extend((getattr(self, 'best_ckpt_path_dict', None)
                      or {}).values())
        for path in paths:
            if path is not None:
                self.publish(runner, str(path), self.published_keys)

    # -- saving ----------------------------------------------------------

    def save(self, runner: Runner, step: int, meta: dict) -> None:
        """Save, point ``last_checkpoint`` at the new file, then prune.

        Args:
            runner (Runner): The runner (its ``save_checkpoint`` writes).
            step (int): The epoch or iteration the file is named after.
            meta (dict): The checkpoint's ``meta`` (``epoch``, ``iter``).
        """
        outdated = self._track(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(
            str(self.last_ckpt).encode('utf-8'),
            osp.join(runner.work_dir, LAST_CHECKPOINT_FILE))
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # e.g. a DeepSpeed folder
                self.file_backend.rmtree(path)

    @master_only
    def publish(self, runner: Runner, path: str,
                keys: Sequence[str]) -> str:
        """Write ``path`` with only ``keys`` kept, as
        ``<path stem>-<sha256[:8]>.pth`` (MMEngine's naming), atomically.

        Args:
            runner (Runner): The runner (for its logger).
            path (str): A checkpoint this run wrote (read safely).
            keys (Sequence[str]): The top-level keys to keep.

        Returns:
            str: The published file.
        """
        checkpoint = read_checkpoint(path, map_location='cpu')
        dropped = [key for key in checkpoint if key not in keys]
        kept = {key: value for key, value in checkpoint.items()
                if key in keys}
        buffer = io.BytesIO()
        torch.save(kept, buffer)
        data = buffer.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        published = f'{osp.splitext(path)[0]}-{sha[:8]}.pth'
        atomic_write_bytes(data, published)
        runner.logger.info(
            f'{type(self).__name__}: published {path} to {published}' +
            (f' (without {", ".join(map(str, dropped))})' if dropped else ''))
        return published

    @staticmethod
    def _best_scores(runner: Runner) -> dict:
        """The best scores ``save_best`` keeps in the message hub."""
        return {
            key: value
            for key, value in runner.message_hub.runtime_info.items()
            if key.startswith('best_score')
        }

    def _track(self, runner: Runner, step: int) -> List[int]:
        """Add ``step`` to the kept checkpoints; return the steps that fall
        out (deleted only after the new checkpoint is on disk)."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return []
        outdated = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated.append(self.keep_ckpt_ids.popleft())
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated
