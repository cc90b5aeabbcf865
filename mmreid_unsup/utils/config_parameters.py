"""The config keys a class accepts, following where its ``**kwargs`` go.

:mod:`~mmreid_unsup.utils.build_hints` checks a config's keys and values
against the constructor's signature. A constructor that takes ``**kwargs``
accepts any key as far as Python is concerned, and a misspelt key is then
passed on and dropped, or fails much later (``default_hooks.checkpoint.
intervl=1`` makes MMEngine's ``CheckpointHook`` fail at the first save,
after a whole epoch). :data:`FORWARDING` says, for the constructors of the
registered hooks, loops, optimizer wrappers and parameter schedulers that
take ``**kwargs``, where those go; the keys a config may hold are then the
constructor's own parameters plus the ones its target accepts.

Where each entry comes from (MMEngine 0.10's source and docstrings):

- ``CheckpointHook`` (and subclasses such as ``AtomicCheckpointHook``):
  ``**kwargs`` are stored and passed to ``Runner.save_checkpoint`` at every
  save, next to the arguments the hook passes itself; the accepted extra
  names are ``Runner.save_checkpoint``'s parameters minus those (none in
  MMEngine 0.10).
- ``EMAHook``: ``**kwargs`` build the averaged model, ``MODELS`` type
  ``ema_type`` (``ExponentialMovingAverage`` by default), which receives
  ``model`` from the hook.
- ``AmpOptimWrapper``, ``ApexOptimWrapper``: ``super().__init__(**kwargs)``,
  i.e. ``OptimWrapper``'s parameters.
- ``LRSchedulerMixin``, ``MomentumSchedulerMixin`` (every ``*LR`` and
  ``*Momentum`` scheduler): ``super().__init__(optimizer, param_name,
  *args, **kwargs)``, i.e. the parameters of the ``*ParamScheduler`` they
  are mixed into, except ``param_name``.
- ``ResumableEpochBasedTrainLoop`` (this package):
  ``super().__init__(*args, **kwargs)``, i.e. ``EpochBasedTrainLoop``'s.

Any other constructor with ``**kwargs`` (``ZeroRedundancyOptimizer``, a
user's class) is reported as :attr:`ConfigParameters.complete` False: its
keys cannot be checked.
"""
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

__all__ = [
    'ConfigParameters', 'Forwarding', 'FORWARDING', 'config_parameters',
    'init_owner'
]

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.KEYWORD_ONLY)


@dataclass(frozen=True)
class ConfigParameters:
    """The keyword parameters a config for a class or function may set.

    Attributes:
        parameters (dict[str, inspect.Parameter]): Name -> parameter, the
            constructor's own first, then those of where ``**kwargs`` go.
        hints (dict[str, Any]): Name -> resolved annotation, where known.
        complete (bool): False when some ``**kwargs`` go somewhere not
            known: then any key may be valid.
        takes_kwargs (bool): The constructor itself takes ``**kwargs``, so
            Python does not reject an unknown key.
    """
    parameters: Dict[str, inspect.Parameter] = field(default_factory=dict)
    hints: Dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    takes_kwargs: bool = False

    @property
    def names(self) -> Tuple[str, ...]:
        """The parameter names, in order."""
        return tuple(self.parameters)


@dataclass(frozen=True)
class Forwarding:
    """Where one constructor's ``**kwargs`` go.

    Attributes:
        to_base (bool): ``super().__init__(..., **kwargs)``: to the next
            constructor in the method resolution order.
        target (Callable, optional): ``target(config_args)`` returns the
            callable that receives the ``**kwargs`` (None: unknown), e.g.
            ``Runner.save_checkpoint`` or the class of a config's type.
        passed (tuple[str]): Parameters of the target the constructor fills
            itself: not config keys.
    """
    to_base: bool = False
    target: Optional[Callable[[Mapping[str, Any]],
                              Optional[Callable]]] = None
    passed: Tuple[str, ...] = ()


def _save_checkpoint(args: Mapping[str, Any]) -> Callable:
    from mmengine.runner import Runner
    return Runner.save_checkpoint


def _ema_model(args: Mapping[str, Any]) -> Optional[Callable]:
    from mmengine.hooks import EMAHook
    from mmengine.registry import MODELS
    default = inspect.signature(EMAHook).parameters['ema_type'].default
    ema_type = args.get('ema_type', default)
    if not isinstance(ema_type, str):
        return ema_type if callable(ema_type) else None
    with MODELS.switch_scope_and_registry(None) as registry:
        return registry.get(ema_type)


#: ``module.QualName`` of the class defining ``__init__`` -> where its
#: ``**kwargs`` go (see the module docstring for the sources).
FORWARDING: Dict[str, Forwarding] = {
    'mmengine.hooks.checkpoint_hook.CheckpointHook':
    Forwarding(
        target=_save_checkpoint,
        passed=('out_dir', 'filename', 'file_client_args', 'save_optimizer',
                'save_param_scheduler', 'meta', 'by_epoch', 'backend_args')),
    'mmengine.hooks.ema_hook.EMAHook':
    Forwarding(target=_ema_model, passed=('model', )),
    'mmengine.optim.optimizer.amp_optimizer_wrapper.AmpOptimWrapper':
    Forwarding(to_base=True),
    'mmengine.optim.optimizer.apex_optimizer_wrapper.ApexOptimWrapper':
    Forwarding(to_base=True),
    'mmengine.optim.scheduler.lr_scheduler.LRSchedulerMixin':
    Forwarding(to_base=True, passed=('param_name', )),
    'mmengine.optim.scheduler.momentum_scheduler.MomentumSchedulerMixin':
    Forwarding(to_base=True, passed=('param_name', )),
    'mmreid_unsup.engine.runners.resumable_train_loop.'
    'ResumableEpochBasedTrainLoop':
    Forwarding(to_base=True),
}


def init_owner(cls: type, start: int = 0) -> Tuple[int, type]:
    """The class in ``cls.__mro__[start:]`` that defines ``__init__``.

    Args:
        cls (type): A class.
        start (int): The MRO position to search from.

    Returns:
        tuple[int, type]: Its MRO position and the class (``object`` at
        the end).
    """
    mro = cls.__mro__
    for index in range(start, len(mro)):
        if '__init__' in vars(mro[index]):
            return index, mro[index]
    return len(mro) - 1, object


def _hints(func: Callable) -> Dict[str, Any]:
    target = func.__init__ if inspect.isclass(func) else func
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references and the like
        return {}


def _own(func: Callable
         ) -> Optional[Tuple[Dict[str, inspect.Parameter], bool]]:
    """The named parameters of ``func`` (without a leading ``self``: an
    ``__init__`` or a method taken from its class) and whether it takes
    ``**kwargs``."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if params and params[0].name == 'self':
        params = params[1:]
    named = {p.name: p for p in params if p.kind in _NAMED}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD
                       for p in params)
    return named, takes_kwargs


def _merge(own: ConfigParameters, forwarded: ConfigParameters,
           passed: Tuple[str, ...]) -> ConfigParameters:
    parameters = dict(own.parameters)
    hints = dict(own.hints)
    for name, param in forwarded.parameters.items():
        if name not in passed and name not in parameters:
            parameters[name] = param
            if name in forwarded.hints:
                hints[name] = forwarded.hints[name]
    return ConfigParameters(parameters, hints, forwarded.complete,
                            own.takes_kwargs)


def _of_class(cls: type, start: int, args: Mapping[str, Any],
              depth: int) -> ConfigParameters:
    index, owner = init_owner(cls, start)
    if owner is object:
        return ConfigParameters()
    own = _own(owner.__init__)
    if own is None:
        return ConfigParameters(complete=False)
    named, takes_kwargs = own
    result = ConfigParameters(named, _hints(owner.__init__), not takes_kwargs,
                              takes_kwargs)
    if not takes_kwargs:
        return result
    rule = FORWARDING.get(f'{owner.__module__}.{owner.__qualname__}')
    if rule is None or depth > 8:
        return result
    if rule.to_base:
        forwarded = _of_class(cls, index + 1, args, depth + 1)
    else:
        target = rule.target(args) if rule.target else None
        if target is None:
            return result
        forwarded = _resolve(target, args, depth + 1)
    return _merge(result, forwarded, rule.passed)


def _resolve(func: Callable, args: Mapping[str, Any],
             depth: int) -> ConfigParameters:
    if inspect.isclass(func):
        return _of_class(func, 0, args, depth)
    own = _own(func)
    if own is None:
        return ConfigParameters(complete=False)
    named, takes_kwargs = own
    return ConfigParameters(named, _hints(func), not takes_kwargs,
                            takes_kwargs)


def config_parameters(obj_cls: Callable,
                      args: Optional[Mapping[str, Any]] = None
                      ) -> ConfigParameters:
    """The keys a config for ``obj_cls`` may hold, with their annotations.

    Args:
        obj_cls (Callable): A registered class or function.
        args (Mapping, optional): The config's keys and values (some
            targets depend on them, e.g. ``EMAHook``'s ``ema_type``).

    Returns:
        ConfigParameters: The parameters, own first, then forwarded ones.
    """
    try:
        return _resolve(obj_cls, args or {}, 0)
    except Exception:  # never fail a build because of this lookup
        return ConfigParameters(complete=False)
