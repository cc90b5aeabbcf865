"""A CheckpointHook after which a kill at any moment leaves a checkpoint to
resume from."""
import glob
import os
import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils.atomic_io import atomic_write_bytes

#: Name of the file that points ``--resume`` at the latest checkpoint.
LAST_CHECKPOINT_FILE = 'last_checkpoint'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with a crash-safe order of writes.

    Every checkpoint file is already written atomically (a temporary file
    renamed into place, :class:`~mmreid_unsup.utils.AtomicLocalBackend`).
    MMEngine's hook (0.10) still has two windows in which a kill leaves
    nothing to resume from: it deletes the oldest kept checkpoint *before*
    writing the new one (with ``max_keep_ckpts=1`` a kill during the save
    leaves no checkpoint at all), and it rewrites ``last_checkpoint``, the
    file ``--resume`` reads, in place (a kill between truncating and
    writing leaves it empty). This hook saves the new checkpoint first,
    then points ``last_checkpoint`` at it by an atomic rename, and only
    then deletes the checkpoints beyond ``max_keep_ckpts``: at every moment
    ``last_checkpoint`` names a complete file. Temporary files left by a
    save that was killed are deleted when training starts.

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

    def _save_checkpoint_with_step(self, runner: Runner, step: int,
                                   meta: dict) -> None:
        """Save, point ``last_checkpoint`` at the new file, then prune."""
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
