"""Whether a checkpoint's weights fit a model, and a refusal when they do not.

MMEngine loads weights with ``strict=False`` everywhere a run loads a
checkpoint (``load_from``, ``--resume``): keys that do not match are only
listed in a warning that starts "The model and loaded state dict do not
match exactly", and the model keeps its random initialisation for them. A
checkpoint of another architecture, or one with an empty ``state_dict``,
then evaluates random weights with exit status 0.

:func:`checkpoint_fit` compares a checkpoint's ``state_dict`` with the
model's own before anything is loaded and counts the model keys the
checkpoint lacks (missing), the checkpoint keys the model does not have
(unexpected) and the tensors of another shape (mismatched).
:func:`check_checkpoint_fit` raises :class:`CheckpointMismatchError` with the
counts and a few examples of each, or, for a partial load on purpose, logs
them as a warning. ``tools/test.py``, :func:`mmreid_unsup.apis.init_model`
and :class:`~mmreid_unsup.engine.hooks.CheckpointFitHook` (``load_from`` and
resume of a ``Runner``) use it.

Differences that are not mismatches:

- data-dependent buffers a module lists in ``resizable_buffers``
  (:class:`~mmreid_unsup.models.utils.ResizableBufferMixin`: memory banks,
  pseudo labels), whose shape follows the number of clusters or samples of
  the run that saved them: loading re-allocates them to the checkpoint's
  shape, and a checkpoint without them (weights converted from another
  toolbox, say) leaves them as a new model has them, empty until the first
  refresh;
- ``num_batches_tracked`` of BatchNorm layers missing from the checkpoint
  (MMEngine ignores them too).
"""
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper

__all__ = [
    'CheckpointFit', 'CheckpointMismatchError', 'DEFAULT_REVISE_KEYS',
    'checkpoint_state_dict', 'checkpoint_fit', 'check_checkpoint_fit',
    'is_resizable_buffer', 'unwrap_for_loading'
]

#: The key rewrites MMEngine's ``Runner.load_checkpoint`` applies by default
#: (a ``module.`` prefix of a DDP-wrapped model is dropped).
DEFAULT_REVISE_KEYS: Sequence[Tuple[str, str]] = ((r'^module.', ''), )
#: How many keys of each kind a message shows.
NUM_EXAMPLES = 3

Shape = Tuple[int, ...]


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (a ``RuntimeError``, as
    a strict ``load_state_dict`` raises)."""


@dataclass(frozen=True)
class CheckpointFit:
    """How a checkpoint's ``state_dict`` fits a model's.

    Attributes:
        model_name (str): The model's class name.
        num_model_keys (int): Keys of the model's ``state_dict``.
        num_checkpoint_keys (int): Keys of the checkpoint's ``state_dict``.
        num_loaded (int): Model keys the checkpoint provides with a shape
            that loads.
        missing (tuple[str]): Model keys the checkpoint does not have.
        unexpected (tuple[str]): Checkpoint keys the model does not have.
        mismatched (tuple[tuple[str, tuple, tuple]]): ``(key,
            checkpoint_shape, model_shape)`` of the tensors of another
            shape.
    """
    model_name: str
    num_model_keys: int
    num_checkpoint_keys: int
    num_loaded: int
    missing: Tuple[str, ...] = ()
    unexpected: Tuple[str, ...] = ()
    mismatched: Tuple[Tuple[str, Shape, Shape], ...] = ()

    @property
    def fits(self) -> bool:
        """True when nothing is missing, unexpected or mismatched."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, num_examples: int = NUM_EXAMPLES) -> str:
        """The counts and up to ``num_examples`` keys of each kind.

        Args:
            num_examples (int): Keys shown per kind. Defaults to
                :data:`NUM_EXAMPLES`.

        Returns:
            str: e.g. ``'0 of the 128 tensors of the model (ClusterContrast)
            are in the checkpoint's 0 with a shape that loads; 107 missing
            (e.g. backbone.conv1.weight, ...), 0 unexpected, 0 of another
            shape'``.
        """

        def examples(keys: List[str], total: int) -> str:
            if not keys:
                return ''
            more = ', ...' if total > len(keys) else ''
            return ' (e.g. ' + ', '.join(keys) + more + ')'

        mismatched = [
            f'{key}: checkpoint {list(saved)} vs model {list(wanted)}'
            for key, saved, wanted in self.mismatched[:num_examples]
        ]
        return (
            f'{self.num_loaded} of the {self.num_model_keys} tensors of the '
            f'model ({self.model_name}) are in the checkpoint\'s '
            f'{self.num_checkpoint_keys} with a shape that loads; '
            f'{len(self.missing)} missing' +
            examples(list(self.missing[:num_examples]), len(self.missing)) +
            f', {len(self.unexpected)} unexpected' + examples(
                list(self.unexpected[:num_examples]), len(self.unexpected)) +
            f', {len(self.mismatched)} of another shape' +
            examples(mismatched, len(self.mismatched)))


def unwrap_for_loading(model: nn.Module) -> nn.Module:
    """The module a checkpoint is loaded into: without DDP or TTA wrappers.

    MMEngine's ``load_state_dict`` looks through model wrappers and
    ``BaseTTAModel`` (``tools/test.py --tta``) in the same way.

    Args:
        model (nn.Module): A model, maybe wrapped.

    Returns:
        nn.Module: The innermost module.
    """
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def checkpoint_state_dict(
    checkpoint: Mapping,
    revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS
) -> Mapping[str, Any]:
    """The weights of a loaded checkpoint, keys rewritten as MMEngine does.

    Args:
        checkpoint (Mapping): What ``torch.load`` returned: a dict with a
            ``state_dict`` or a bare state dict.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            regular expressions applied to every key, in order. Defaults
            to :data:`DEFAULT_REVISE_KEYS`.

    Returns:
        OrderedDict: Key -> value, in the checkpoint's order, with the
        ``_metadata`` (module versions) of the original kept.

    Raises:
        CheckpointMismatchError: The ``state_dict`` is not a mapping.
    """
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, Mapping) else checkpoint
    if not isinstance(state_dict, Mapping):
        raise CheckpointMismatchError(
            'the checkpoint\'s state_dict is a '
            f'{type(state_dict).__name__}, not a mapping of weights')
    revised: 'OrderedDict[str, Any]' = OrderedDict()
    for key, value in state_dict.items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, str(key))
        revised[key] = value
    revised._metadata = getattr(  # type: ignore[attr-defined]
        state_dict, '_metadata', OrderedDict())
    return revised


def is_resizable_buffer(model: nn.Module, key: str) -> bool:
    """Whether ``key`` names a buffer its module re-allocates on load.

    Such buffers (memory banks, pseudo labels, proxies) follow the data; a
    checkpoint may leave them out or hold them at another size.

    Args:
        model (nn.Module): The model.
        key (str): A key of its state dict.

    Returns:
        bool: True if the key's module lists it in ``resizable_buffers``.
    """
    prefix, _, name = key.rpartition('.')
    try:
        module = model.get_submodule(prefix) if prefix else model
    except AttributeError:
        return False
    return name in getattr(module, 'resizable_buffers', ())


def checkpoint_fit(model: nn.Module,
                   state_dict: Mapping[str, Any]) -> CheckpointFit:
    """Compare a checkpoint's weights with a model's, loading nothing.

    Args:
        model (nn.Module): The model (wrappers are looked through, see
            :func:`unwrap_for_loading`).
        state_dict (Mapping): The checkpoint's weights, keys as the model
            would receive them (see :func:`checkpoint_state_dict`).

    Returns:
        CheckpointFit: The missing, unexpected and mismatched keys.
    """
    model = unwrap_for_loading(model)
    own = model.state_dict()
    missing = tuple(
        key for key in own
        if key not in state_dict and not key.endswith('num_batches_tracked')
        and not is_resizable_buffer(model, key))
    unexpected = tuple(key for key in state_dict if key not in own)
    mismatched = []
    num_loaded = 0
    for key, value in state_dict.items():
        if key not in own:
            continue
        wanted = own[key]
        shape = getattr(value, 'shape', None)
        if (shape is not None and hasattr(wanted, 'shape')
                and tuple(shape) != tuple(wanted.shape)
                and not is_resizable_buffer(model, key)):
            mismatched.append((key, tuple(shape), tuple(wanted.shape)))
        else:
            num_loaded += 1
    return CheckpointFit(
        model_name=type(model).__name__,
        num_model_keys=len(own),
        num_checkpoint_keys=len(state_dict),
        num_loaded=num_loaded,
        missing=missing,
        unexpected=unexpected,
        mismatched=tuple(mismatched))


def check_checkpoint_fit(model: nn.Module,
                         checkpoint: Mapping,
                         source: str,
                         strict: bool = True,
                         allow_hint: str = 'pass strict=False',
                         revise_keys: Sequence[Tuple[str, str]] = (
                             DEFAULT_REVISE_KEYS),
                         logger: Optional[Union[str, Any]] = 'current'
                         ) -> CheckpointFit:
    """Refuse a checkpoint whose weights do not fit, or warn for a partial
    load on purpose.

    Args:
        model (nn.Module): The model the checkpoint is for.
        checkpoint (Mapping): The loaded checkpoint (with a ``state_dict``
            or a bare state dict).
        source (str): The file or ``zoo://NAME`` the checkpoint came from,
            named in the message.
        strict (bool): Raise on any difference. When False, the differences
            are logged as a warning and the caller loads what fits.
            Defaults to True.
        allow_hint (str): How the user of the caller allows a partial load
            (e.g. ``'pass --allow-partial-load'``), appended to the error.
        revise_keys (Sequence[tuple[str, str]]): Key rewrites, as for
            :func:`checkpoint_state_dict`.
        logger (str | Logger, optional): Where the warning of a partial
            load goes (:func:`mmengine.logging.print_log`). Defaults to
            ``'current'``.

    Returns:
        CheckpointFit: The comparison.

    Raises:
        CheckpointMismatchError: ``strict`` and the weights do not fit.
    """
    try:
        state_dict = checkpoint_state_dict(checkpoint, revise_keys)
    except CheckpointMismatchError as err:
        raise CheckpointMismatchError(f'{source}: {err}') from None
    fit = checkpoint_fit(model, state_dict)
    if fit.fits:
        return fit
    if strict:
        raise CheckpointMismatchError(
            f'checkpoint {source} does not fit the model: {fit.summary()}. '
            'Check that the config is the one the checkpoint was trained '
            f'with; to load only the tensors that fit on purpose, '
            f'{allow_hint}.')
    print_log(
        f'Partial load of {source} (allowed): {fit.summary()}; the other '
        'tensors keep their initialisation.',
        logger=logger,
        level=logging.WARNING)
    return fit
