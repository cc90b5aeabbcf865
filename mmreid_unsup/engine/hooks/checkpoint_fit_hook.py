"""Stop a run whose ``load_from`` / resume checkpoint does not fit the
model, before it trains or evaluates random weights."""
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils.checkpoint_fit import check_checkpoint_fit

#: The top-level config key that allows a partial load on purpose.
STRICT_KEY = 'load_from_strict'


def load_from_strict(cfg) -> bool:
    """The config's ``load_from_strict`` (True when it is not set).

    Args:
        cfg (Config | dict | None): A run's config.

    Returns:
        bool: Whether a checkpoint that does not fit stops the run.

    Raises:
        TypeError: The value is not a bool (naming the key and the value).
    """
    value = (cfg or {}).get(STRICT_KEY, True)
    if not isinstance(value, bool):
        raise TypeError(f'config key {STRICT_KEY!r} must be True or False, '
                        f'got {value!r} ({type(value).__name__})')
    return value


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Refuse a checkpoint whose weights do not fit the model.

    MMEngine's ``Runner.load_checkpoint`` (``load_from``, ``resume``) loads
    with ``strict=False``: a checkpoint of another architecture, or one
    with an empty ``state_dict``, leaves the model at its random
    initialisation behind a warning. ``after_load_checkpoint`` is called
    with the checkpoint just before its weights go into the model; this
    hook compares them with the model's own
    (:func:`~mmreid_unsup.utils.checkpoint_fit.checkpoint_fit`) and raises
    :class:`~mmreid_unsup.utils.checkpoint_fit.CheckpointMismatchError`
    with the numbers of missing, unexpected and mismatched keys and a few
    examples. Data-dependent buffers (memory banks, pseudo labels, whose
    size follows the number of clusters) are resized on load and are not
    mismatches, so fine-tuning from a trained checkpoint of the same model
    works.

    To load only what fits on purpose (e.g. a checkpoint of a slightly
    different model), set the top-level config key::

        load_from = 'other.pth'
        load_from_strict = False  # report the differences as a warning

    (``--cfg-options load_from_strict=False``; ``tools/test.py
    --allow-partial-load``). ``configs/_base_/default_runtime.py`` lists the
    hook in ``default_hooks`` as ``checkpoint_fit``.
    """

    priority = 'VERY_HIGH'  # before other hooks act on the checkpoint

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Compare the checkpoint with the model; raise if it does not fit.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be loaded.

        Raises:
            CheckpointMismatchError: The weights do not fit and
                ``load_from_strict`` is not False.
        """
        cfg = getattr(runner, 'cfg', None)
        source = (cfg or {}).get('load_from') or 'the checkpoint'
        check_checkpoint_fit(
            runner.model,
            checkpoint,
            source=str(source),
            strict=load_from_strict(cfg),
            allow_hint=(f'set `{STRICT_KEY} = False` in the config '
                        f'(--cfg-options {STRICT_KEY}=False; tools/test.py: '
                        '--allow-partial-load)'),
            logger=runner.logger)
