"""The runner of this toolbox: MMEngine's ``Runner``, loading checkpoints
safely and saving them atomically."""
import functools
import os.path as osp
from typing import (Any, Callable, Mapping, Optional, Sequence, Tuple,
                    TypeVar, Union)

import torch.nn as nn
from mmengine.config import Config
from mmengine.dist import master_only
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint, load_state_dict

from mmreid_unsup.registry import HINTED_MMENGINE_ROOTS, RUNNERS
from mmreid_unsup.utils.atomic_io import atomic_file
from mmreid_unsup.utils.build_hints import build_hints_on
from mmreid_unsup.utils.checkpoint_fit import (DEFAULT_REVISE_KEYS,
                                               checkpoint_state_dict)
from ..checkpoint_io import read_checkpoint
from .cached_pretty_text_config import CachedPrettyTextConfig

__all__ = [
    'ReIDRunner', 'build_runner', 'is_resuming', 'DEFAULT_RUNNER_TYPE'
]

#: The ``runner_type`` of ``configs/_base_/default_runtime.py``, and what
#: :func:`build_runner` builds when a config names none.
DEFAULT_RUNNER_TYPE = 'mmreid_unsup.ReIDRunner'

_Method = TypeVar('_Method', bound=Callable[..., Any])


def _with_build_hints(method: _Method) -> _Method:
    """``method`` of ``Runner``, run with clear config errors from
    MMEngine's roots (:func:`~mmreid_unsup.utils.build_hints.build_hints_on`
    for the call only)."""

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            return method(*args, **kwargs)

    return run  # type: ignore[return-value]


#: The public methods of ``Runner`` that build parts of a config through
#: MMEngine's roots (besides ``__init__``, ``train``, ``val``, ``test``):
#: called on their own (``runner.train_loop`` builds it on first use),
#: they report config mistakes clearly too.
_BUILDING_METHODS = ('build_model', 'wrap_model', 'register_hook',
                     'build_optim_wrapper', 'build_param_scheduler',
                     'build_evaluator', 'build_train_loop', 'build_val_loop',
                     'build_test_loop', 'build_visualizer',
                     'build_log_processor')


@RUNNERS.register_module()
class ReIDRunner(Runner):
    """MMEngine's ``Runner`` whose checkpoints are safe to load and to kill.

    The base config selects it (``runner_type = 'mmreid_unsup.ReIDRunner'``
    in ``configs/_base_/default_runtime.py``); the tools build it with
    :func:`build_runner`, MMEngine's ``RUNNERS.build(cfg)`` builds it too.
    It changes MMEngine's behaviour through its public methods (and the
    weight initialisation that train() calls):

    - :meth:`load_checkpoint` (``load_from``, ``tools/test.py``'s
      CHECKPOINT, and :meth:`resume`, which calls it) reads every file with
      :func:`~mmreid_unsup.engine.checkpoint_io.read_checkpoint`:
      ``weights_only=True`` passed explicitly, only inert stand-ins
      allow-listed for that one load, ``meta['config']`` (which
      ``Runner.resume`` would execute) dropped; a crafted file is refused
      before anything of it runs. ``zoo://NAME`` is accepted. Weights
      named by ``init_cfg=dict(type='Pretrained')`` go through the same
      reader (:class:`~mmreid_unsup.engine.checkpoint_io.SafePretrainedInit`).
    - :meth:`resume` records that it is resuming (:attr:`resuming`, read
      by the hooks that restore state only on resume) and what it resumed
      from (:attr:`resumed_from`).
    - :meth:`save_checkpoint` writes a local checkpoint to a temporary
      file beside it, fsyncs and renames it
      (:func:`~mmreid_unsup.utils.atomic_file`): a kill during a save
      leaves the previous checkpoint intact.
    - :meth:`val` and :meth:`test` called before :meth:`train` with no
      checkpoint to load evaluate the model training starts from (weights
      initialised, ``init_cfg`` pretrained files loaded), not the weights
      it was built with (:meth:`load_or_resume`; a model passed built, or
      weights loaded by hand, are evaluated as they are); the weights are
      initialised once per runner, and :meth:`train` after a ``load_from``
      evaluation still initialises first and loads the checkpoint over
      that.
    - While it is built, while :meth:`train`, :meth:`val` and :meth:`test`
      run, and in its public ``build_*`` methods, config mistakes in the
      parts MMEngine builds for it are reported with the key and the
      nearest valid name
      (:func:`~mmreid_unsup.utils.build_hints.build_hints_on` MMEngine's
      roots for the call; given back afterwards).
    - A ``cfg`` given as a :class:`~mmengine.config.Config` keyword
      (``from_cfg`` passes it so) is held as a
      :class:`~mmreid_unsup.engine.runners.cached_pretty_text_config.CachedPrettyTextConfig`:
      the same text in the log, the dumps and every checkpoint, formatted
      once per content instead of at each of them.

    Args: as :class:`mmengine.runner.Runner`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._resuming = False
        self._weights_initialised = False
        model = kwargs['model'] if 'model' in kwargs else (
            args[0] if args else None)
        # Evaluated before training, a model built here from its config is
        # initialised first; one passed built, or whose weights were loaded
        # by hand, is evaluated as it is (MMEngine's behaviour).
        self._init_before_eval = isinstance(model, dict)
        self.resumed_from: Optional[str] = None
        if isinstance(kwargs.get('cfg'), Config):
            # Formatted once, not at every log, dump and checkpoint.
            kwargs['cfg'] = CachedPrettyTextConfig.of(kwargs['cfg'])
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            super().__init__(*args, **kwargs)

    @property
    def resuming(self) -> bool:
        """bool: True while :meth:`resume` loads its checkpoint (so while
        the ``after_load_checkpoint`` hooks run), False for a
        ``load_from`` load."""
        return self._resuming

    # -- running, with clear config errors -----------------------------

    def train(self) -> nn.Module:
        """Launch training (MMEngine's), with clear config errors.

        Training starts from the initialised weights (``init_cfg``) with
        ``load_from`` (or the resumed checkpoint) loaded over them, also
        when :meth:`val` or :meth:`test` loaded that checkpoint before
        (MMEngine would then initialise over it and not load it again).
        """
        if self._has_loaded and not self._weights_initialised:
            self._has_loaded = False
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            return super().train()

    def val(self) -> dict:
        """Launch validation (MMEngine's), with clear config errors.

        Before :meth:`train`, with no checkpoint to load, it validates the
        model training would start from (see :meth:`load_or_resume`).
        """
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            return super().val()

    def test(self) -> dict:
        """Launch testing (MMEngine's), with clear config errors.

        As :meth:`val`: before :meth:`train` with no checkpoint to load,
        the start model is tested.
        """
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            return super().test()

    def load_or_resume(self) -> None:
        """Load ``load_from`` or resume (MMEngine's), first initialising the
        weights as :meth:`train` does when there is no checkpoint to load
        (no ``load_from``, and no ``resume`` or no checkpoint in the work
        dir to resume from) and this runner has not initialised them yet.

        :meth:`val` and :meth:`test` call it after the ``before_run`` hooks,
        as :meth:`train` does: before training they then evaluate the start
        model (``init_cfg`` weights, pretrained files included), where
        MMEngine evaluates the weights the model was built with. Not for a
        model passed to the runner built, nor after :meth:`load_checkpoint`
        or :meth:`resume` called by hand: those weights are evaluated as
        they are. With ``load_from``, the checkpoint is loaded over the
        weights as built (MMEngine's): the same start as :meth:`train`'s
        (initialised, then loaded) for a checkpoint of the whole model, not
        for a partial one (``load_from_strict = False``).
        """
        if (self._init_before_eval and not self._weights_initialised
                and not self._has_loaded and self._load_from is None
                and (not self._resume
                     or find_latest_checkpoint(self.work_dir) is None)):
            self._init_model_weights()
        super().load_or_resume()

    def _init_model_weights(self) -> None:
        """MMEngine's (the model's ``init_weights``, then its weights
        broadcast from rank 0), once per runner: not again in :meth:`train`
        after :meth:`val` or :meth:`test` did it, nor in :meth:`test` after
        :meth:`train` (which would replace the trained weights)."""
        if not self._weights_initialised:
            super()._init_model_weights()
            self._weights_initialised = True

    @staticmethod
    def build_dataloader(*args: Any, **kwargs: Any) -> Any:
        """MMEngine's ``Runner.build_dataloader``, with clear config
        errors."""
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            return Runner.build_dataloader(*args, **kwargs)

    # -- checkpoints ---------------------------------------------------

    def load_checkpoint(
        self,
        filename: str,
        map_location: Union[str, Callable] = 'cpu',
        strict: bool = False,
        revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS
    ) -> Mapping:
        """Load a checkpoint into the model, read safely.

        As MMEngine's ``Runner.load_checkpoint`` (the
        ``after_load_checkpoint`` hooks see the checkpoint before its
        weights go into the model; differences of keys are logged), except
        that the file is read by
        :func:`~mmreid_unsup.engine.checkpoint_io.read_checkpoint`. (It
        does not set MMEngine's private "already loaded" flag: called by
        hand before ``train()``, a configured ``load_from`` is still
        loaded after it. ``load_or_resume`` and ``resume`` set the flag
        themselves.) Called by hand, :meth:`val` and :meth:`test` evaluate
        the loaded weights as they are, without initialising them first.

        Args:
            filename (str): A local path, ``zoo://NAME``, or a URL of a
                scheme MMEngine knows.
            map_location (str | callable): As for :func:`torch.load`.
                Defaults to ``'cpu'``.
            strict (bool): Whether the keys must match exactly. Defaults
                to False.
            revise_keys (Sequence[tuple[str, str]]): ``(pattern,
                replacement)`` regular expressions applied to every key.
                Defaults to stripping a leading ``module.``.

        Returns:
            dict: The checkpoint.

        Raises:
            UnsafeCheckpointError: The file could run code or holds
                anything but plain data; nothing of it was executed.
        """
        checkpoint = read_checkpoint(filename, map_location=map_location)
        # Loaded weights are evaluated as they are (see load_or_resume):
        # by hand, or by load_or_resume, after which it initialises nothing
        # more before train().
        self._init_before_eval = False
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_state_dict(
            model,
            checkpoint_state_dict(checkpoint, revise_keys),
            strict,
            logger=self.logger)
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """Resume training from a checkpoint (MMEngine's ``resume``, whose
        load is :meth:`load_checkpoint`), recording that it does.

        Args: as :meth:`mmengine.runner.Runner.resume`.
        """
        self._resuming = True
        try:
            super().resume(
                filename,
                resume_optimizer=resume_optimizer,
                resume_param_scheduler=resume_param_scheduler,
                map_location=map_location)
        finally:
            self._resuming = False
        self.resumed_from = filename

    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None,
                        **kwargs: Any) -> None:
        """Save a checkpoint (MMEngine's), atomically on a local disk.

        MMEngine writes the file in place: a kill or a full disk during
        the write leaves a truncated checkpoint that ``--resume`` fails
        on. Here MMEngine writes it to a temporary file beside the target
        (``.NAME.*.tmp``), which is fsynced and renamed into place
        (:func:`~mmreid_unsup.utils.atomic_file`); a failed write removes
        it and raises an ``OSError`` naming the target. Checkpoints saved
        to a remote backend (``s3://``, a ``file_client_args`` client, a
        non-local ``backend_args``) are saved as MMEngine saves them.

        Args: as :meth:`mmengine.runner.Runner.save_checkpoint`.
        """
        args = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args,
            **kwargs)
        local = (file_client_args is None and '://' not in str(out_dir)
                 and (backend_args or {}).get('backend', 'local') == 'local')
        if not local:
            super().save_checkpoint(out_dir, filename, **args)
            return
        with atomic_file(osp.join(str(out_dir), filename)) as tmp:
            super().save_checkpoint(str(tmp.parent), tmp.name, **args)


for _name in _BUILDING_METHODS:
    setattr(ReIDRunner, _name, _with_build_hints(getattr(Runner, _name)))
del _name


def build_runner(cfg: Config) -> ReIDRunner:
    """Build the runner of a config, as the tools do.

    The class is the config's ``runner_type`` (``configs/_base_/
    default_runtime.py`` names :class:`ReIDRunner`), or
    :data:`DEFAULT_RUNNER_TYPE` for a config that names none. It must be
    :class:`ReIDRunner` or a subclass of it: another runner would load
    checkpoints with MMEngine's own loader, which lets a crafted file run
    code when torch's ``weights_only`` default is turned off.

    Args:
        cfg (Config): The config.

    Returns:
        ReIDRunner: Built by the class's ``from_cfg``.

    Raises:
        KeyError: ``runner_type`` names no registered runner.
        TypeError: ``runner_type`` is not a :class:`ReIDRunner`.
    """
    runner_type = cfg.get('runner_type') or DEFAULT_RUNNER_TYPE
    runner_cls = RUNNERS.get(runner_type) if isinstance(runner_type,
                                                       str) else runner_type
    if runner_cls is None:
        raise KeyError(f'runner_type={runner_type!r} is not a registered '
                       f'runner; use {DEFAULT_RUNNER_TYPE!r}')
    if not (isinstance(runner_cls, type)
            and issubclass(runner_cls, ReIDRunner)):
        raise TypeError(
            f'runner_type={runner_type!r} is not {DEFAULT_RUNNER_TYPE} or a '
            'subclass of it: the tools of mmreid_unsup run only runners '
            'that read checkpoints safely (weights_only=True, refusing a '
            'file that could run code). Subclass ReIDRunner to customise '
            'the runner.')
    return runner_cls.from_cfg(cfg)


def is_resuming(runner: Any) -> bool:
    """Whether ``runner`` is loading a checkpoint to resume from.

    For the ``after_load_checkpoint`` hooks that restore state (pseudo
    labels, memories, random generators) on ``resume`` only, not on a
    ``load_from`` of another run's weights. :class:`ReIDRunner` says so
    itself (:attr:`ReIDRunner.resuming`); for another runner the config's
    ``resume`` is taken (MMEngine then loads only to resume).

    Args:
        runner: The runner.

    Returns:
        bool: Whether the checkpoint being loaded is resumed from.
    """
    resuming = getattr(runner, 'resuming', None)
    if isinstance(resuming, bool):
        return resuming
    cfg = getattr(runner, 'cfg', None)
    return bool(cfg.get('resume', False)) if cfg is not None else False
