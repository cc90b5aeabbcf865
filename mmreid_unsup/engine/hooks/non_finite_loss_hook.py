"""Stop training at the first NaN/Inf loss, before it reaches the weights."""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS
from ..contracts import LossCheckingModel
from ..feature_extraction import unwrap_model


class NonFiniteLossError(FloatingPointError):
    """A loss term of a training iteration was NaN or infinite."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop the run when a loss term becomes NaN or Inf, naming it.

    Design: MMEngine's ``BaseModel.train_step`` (and
    ``MMDistributedDataParallel.train_step``) computes the loss dict, hands
    it to ``model.parse_losses`` and then calls
    ``optim_wrapper.update_params``, which runs backward and the optimizer
    step. ``parse_losses`` is therefore the one place where the per-term
    losses exist *before* the step. The models of this toolbox call a
    check there (the ``LossCheckingModel`` contract,
    :meth:`~mmreid_unsup.models.BaseReIDModel.set_loss_check`): before
    training this hook gives the (unwrapped) model its :meth:`check` of
    every term whose name contains ``'loss'`` (the terms MMEngine sums
    into the loss), so a non-finite term raises
    :class:`NonFiniteLossError` before backward: the weights, the
    optimizer state and the memories keep their last finite values, and
    since the run stops inside the iteration no ``CheckpointHook`` runs
    after it: every checkpoint on disk was written before the fault and
    holds finite weights. After training the check is removed.

    Under DDP every rank checks its own losses and the flags are
    all-gathered, so all ranks stop at the same iteration with the same
    message (naming the ranks where the term was not finite) instead of one
    rank raising while the others wait in the gradient all-reduce. This
    costs one tiny all-gather per iteration.

    A model without ``set_loss_check`` (another ``BaseModel``), or whose
    own ``train_step`` bypasses ``parse_losses``, is checked in
    ``after_train_iter`` from the logged losses instead: after its
    optimizer step, but still before any checkpoint or memory update of
    that iteration (the hook's priority is ``'HIGH'``).

    The message names the epoch and the iteration within it (1-based, as in
    MMEngine's log lines ``Epoch(train) [epoch][iter/len]``), the global
    iteration, the term and its value, and the last checkpoint written, to
    resume from (with a lower learning rate, for instance).

    Args:
        sync_ranks (bool): All-gather the check across ranks in distributed
            runs (recommended; see above). Defaults to True.
    """

    priority = 'HIGH'

    def __init__(self, sync_ranks: bool = True) -> None:
        self.sync_ranks = sync_ranks
        self._runner: Optional[Runner] = None
        self._model: Optional[LossCheckingModel] = None
        self._batch_idx = 0
        self._checked = False

    # -- MMEngine hook points -------------------------------------------

    def before_train(self, runner: Runner) -> None:
        """Give the model the check of its parsed losses."""
        model = unwrap_model(runner)
        self._runner = runner
        if not isinstance(model, LossCheckingModel):
            runner.logger.warning(
                'NonFiniteLossHook: the model has no set_loss_check() (see '
                'mmreid_unsup.engine.contracts.LossCheckingModel); losses '
                'are checked after the optimizer step only')
            return
        model.set_loss_check(self._check_before_step)
        self._model = model

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Remember where we are, for the message."""
        self._batch_idx = batch_idx
        self._checked = False

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the logged losses if ``parse_losses`` was not called."""
        if self._checked or not isinstance(outputs, dict):
            return
        self.check(outputs, before_step=False)

    def after_train(self, runner: Runner) -> None:
        """Take the check back from the model."""
        if self._model is not None:
            self._model.set_loss_check(None)
        self._model = None

    # -- the check --------------------------------------------------------

    def _check_before_step(self, log_vars: Dict[str, torch.Tensor]) -> None:
        """:meth:`check` of the losses parsed before the optimizer step."""
        self.check(log_vars, before_step=True)

    def check(self, log_vars: Dict[str, torch.Tensor],
              before_step: bool) -> None:
        """Raise :class:`NonFiniteLossError` if a loss term is not finite.

        Args:
            log_vars (dict): Loss name -> value (tensor or number), as
                returned by ``parse_losses``.
            before_step (bool): Whether the optimizer step of this
                iteration is still to come (for the message).

        Raises:
            NonFiniteLossError: Naming the iteration, the term(s), their
                value and, in a distributed run, the ranks.
        """
        self._checked = True
        terms = [(name, value) for name, value in log_vars.items()
                 if 'loss' in name]
        if not terms:
            return
        values = [float(torch.as_tensor(v).detach().float().sum())
                  for _, v in terms]
        flags = torch.tensor([not math.isfinite(v) for v in values],
                             dtype=torch.uint8)
        bad_ranks: List[List[int]] = [[0] if f else [] for f in flags]
        if self.sync_ranks and get_world_size() > 1:
            device = torch.as_tensor(terms[0][1]).device
            gathered = all_gather(flags.to(device))
            bad_ranks = [[
                rank for rank, rank_flags in enumerate(gathered)
                if rank_flags[i]
            ] for i in range(len(terms))]
        if not any(bad_ranks):
            return
        bad = [(name, value, ranks)
               for (name, _), value, ranks in zip(terms, values, bad_ranks)
               if ranks]
        if len(bad) > 1:  # the total is not finite because a term is not
            bad = [item for item in bad if item[0] != 'loss'] or bad
        message = self._message(bad, before_step)
        if isinstance(self._runner, Runner):
            self._runner.logger.error(message)
        raise NonFiniteLossError(message)

    def _message(self, bad: Sequence[Tuple[str, float, List[int]]],
                 before_step: bool) -> str:
        runner = self._runner
        distributed = self.sync_ranks and get_world_size() > 1
        parts = []
        for name, value, ranks in bad:
            if distributed:
                parts.append(
                    f'{name} not finite on rank(s) '
                    f'{", ".join(map(str, ranks))} (on this rank: {value})')
            else:
                parts.append(f'{name}={value}')
        where = ''
        last = 'no checkpoint had been saved yet'
        if isinstance(runner, Runner):
            num_iters = len(runner.train_dataloader)
            where = (f' at epoch {runner.epoch + 1}, iter '
                     f'{self._batch_idx + 1}/{num_iters} (global iteration '
                     f'{runner.iter + 1})')
            pointer = osp.join(runner.work_dir, 'last_checkpoint')
            if osp.isfile(pointer):
                with open(pointer) as f:
                    last = f'the last checkpoint is {f.read().strip()}'
        if before_step:
            state = ('Training stopped before the optimizer step: the '
                     'weights were not updated with it')
        else:
            state = ('Training stopped after the optimizer step (the '
                     "model's losses could not be checked before it: no "
                     'set_loss_check, or a train_step that bypasses '
                     'parse_losses): the weights in memory may be corrupt')
        return (f'NonFiniteLossHook: non-finite loss{where}: '
                f'{", ".join(parts)}. {state}, and no checkpoint was written '
                f'after it; {last}. Resume from it (--resume), e.g. with a '
                'lower learning rate, or look for the cause in this '
                "iteration's data and pseudo labels.")
