"""Config errors that name the key and suggest the nearest valid name.

MMEngine builds every part of a run from a config dict through a registry's
``build_func``. When the dict is wrong, the user sees a bare registry
``KeyError`` (unknown ``type``) or Python's ``TypeError`` from the
constructor (misspelt key, wrong value type). :func:`build_with_hints` wraps
a ``build_func`` so that these errors name the type and the key and suggest
the nearest registered name or parameter (:mod:`difflib`).

Two mistakes do not make the constructor raise, or make it raise only much
later, so they are also checked after a build that succeeded:

- a misspelt key of a constructor that takes ``**kwargs`` (MMEngine's
  ``CheckpointHook``, loops, optimizer wrappers, parameter schedulers):
  the keys it accepts are its own parameters plus those of where its
  ``**kwargs`` go (:mod:`~mmreid_unsup.utils.config_parameters`);
- a string where the annotation asks for a number or a bool only
  (``max_epochs='ten'``, ``lr='fast'``, ``depth='18'``, typically from
  ``--cfg-options`` or quotes in a config).

Otherwise nothing changes: the wrapped function is called as it was, and a
failing config is examined only after it raised.
The new errors are subclasses of the ones they replace
(:class:`UnknownTypeError` of ``KeyError``, :class:`ConfigArgumentError` of
``TypeError``, and of ``ValueError`` / ``KeyError`` / ``AssertionError``
when the constructor raised one of those for a value of the wrong type) and
chain the original (``raise ... from``), so code that caught them keeps
working. An error the config does not explain (a bug inside a constructor)
propagates unchanged.
"""
import difflib
import inspect
import numbers
import types
import typing
import threading
from collections import abc
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Tuple)

import torch
from mmengine.registry import Registry

from .config_parameters import ConfigParameters, config_parameters

#: How many close names an error suggests.
NUM_SUGGESTIONS = 3
#: Attribute marking a build function as already wrapped.
_WRAPPED = '_mmreid_build_hints'


class UnknownTypeError(KeyError):
    """A config's ``type`` is not registered (a ``KeyError``, as before)."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ''


class ConfigArgumentError(TypeError):
    """A config key the type does not accept, or a value of the wrong type."""

    def __str__(self) -> str:  # KeyError in a subclass would print a repr
        return str(self.args[0]) if self.args else ''


class ConfigValueError(ConfigArgumentError, ValueError):
    """A value of the wrong type, where the constructor raised ValueError."""


class ConfigKeyError(ConfigArgumentError, KeyError):
    """A value of the wrong type, where the constructor raised KeyError."""


class ConfigAssertionError(ConfigArgumentError, AssertionError):
    """A value of the wrong type, where the constructor failed an assert."""


#: The error replacing each kind of original, for values of a wrong type.
_VALUE_ERRORS = ((ValueError, ConfigValueError), (KeyError, ConfigKeyError),
                 (AssertionError, ConfigAssertionError),
                 (TypeError, ConfigArgumentError))
#: The constructor errors a config can explain.
_EXPLAINED = (KeyError, TypeError, ValueError, AssertionError)


def close_matches(word: str, candidates: List[str]) -> List[str]:
    """The candidates nearest to ``word``, ignoring case, best first.

    :func:`difflib.get_close_matches` first, then the names that contain
    ``word`` (an abbreviation such as ``'DBSCAN'``).

    Args:
        word (str): A misspelt name.
        candidates (list[str]): The valid names.

    Returns:
        list[str]: Up to :data:`NUM_SUGGESTIONS` names.
    """
    lowered: Dict[str, str] = {}
    for name in candidates:
        lowered.setdefault(name.lower(), name)
    word = word.lower()
    matches = difflib.get_close_matches(
        word, list(lowered), n=NUM_SUGGESTIONS, cutoff=0.6)
    if len(word) >= 3:  # an abbreviation: 'dbscan' -> 'DBSCANLabeler'
        matches += sorted(name for name in lowered
                          if word in name and name not in matches)
    return [lowered[m] for m in matches[:NUM_SUGGESTIONS]]


def _did_you_mean(word: str, candidates: List[str]) -> str:
    matches = close_matches(word, candidates)
    if not matches:
        return ''
    return ' Did you mean ' + ' or '.join(repr(m) for m in matches) + '?'


def registered_names(registry: Registry) -> List[str]:
    """Names a bare ``type`` resolves to: the registry's and its parents'.

    Args:
        registry (Registry): The registry (after the scope switch).

    Returns:
        list[str]: Sorted, without duplicates.
    """
    names = set()
    node: Optional[Registry] = registry
    while node is not None:
        node.import_from_location()
        names.update(node.module_dict)
        node = node.parent
    return sorted(names)


def _unknown_type_error(obj_type: str,
                        registry: Registry) -> UnknownTypeError:
    bare = obj_type.rsplit('.', 1)[-1]
    names = registered_names(registry)
    hint = _did_you_mean(bare, names)
    if not hint:
        hint = (f' No registered name is close (the registry and its '
                f'parents hold {len(names)}). If it is your own class, '
                'register it and import its module with `custom_imports`.')
    return UnknownTypeError(
        f"type={obj_type!r} is not in the {registry.scope}::{registry.name} "
        f'registry or its parents.{hint}')


#: Annotations whose values can be checked without guessing.
_SEQUENCES = (list, tuple, abc.Sequence)
_PLAIN = (int, float, bool, str, type(None), list, tuple, dict, set)


def _value_fits(value: Any, hint: Any) -> Optional[bool]:
    """Whether ``value`` fits the annotation; None when it cannot tell.

    Only plain annotations are judged (numbers, str, bool, None, builtin
    containers, their ``Optional`` / ``Union``); anything else (a class
    that a dict config builds, ``Any``, a forward reference) is None.
    Numbers are lenient: an int fits ``float``, a list fits ``tuple``.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        verdicts = [_value_fits(value, arg) for arg in typing.get_args(hint)]
        if any(v is True for v in verdicts):
            return True
        return False if all(v is False for v in verdicts) else None
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is not None:
        hint = origin
    if hint is torch.Tensor:  # e.g. ``lr: float | Tensor`` of optimizers
        if isinstance(value, torch.Tensor):
            return True
        return False if isinstance(value, str) else None
    if hint is float:
        return isinstance(value, numbers.Real)
    if hint is int:
        return isinstance(value, numbers.Integral)
    if hint in (list, tuple) or hint is abc.Sequence:
        return isinstance(value, _SEQUENCES) and not isinstance(value, str)
    if hint in _PLAIN:
        return isinstance(value, hint)
    return None


#: Annotations a string never fits.
_NUMERIC = (int, float, bool, numbers.Number, numbers.Real, numbers.Integral,
            torch.Tensor)


def _wants_number(hint: Any) -> bool:
    """Whether the annotation admits only numbers, bools or tensors (and
    None): a string for it is a mistake even if the build would pass."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return bool(args) and all(_wants_number(a) for a in args)
    return hint in _NUMERIC


def _describe_hint(hint: Any) -> str:
    if typing.get_origin(hint) is None and isinstance(hint, type):
        return hint.__name__
    return str(hint).replace('typing.', '')


def _value_error(name: str, key: str, value: Any, hint: Any,
                 original: Optional[BaseException]) -> ConfigArgumentError:
    """The error for ``key=value`` not fitting the annotation ``hint``."""
    message = (f'{name}: config key {key!r} has the value {value!r} of type '
               f'{type(value).__name__}, but {key} must be '
               f'{_describe_hint(hint)}')
    if isinstance(value, str) and _wants_number(hint):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            shown = int(number) if number.is_integer() and '.' not in value \
                else number
            message += f' (write {key}={shown!r}, without quotes)'
    if isinstance(original, TypeError):
        message += f' ({type(original).__name__}: {original})'
    error_cls = ConfigArgumentError
    for base, replacement in _VALUE_ERRORS:
        if isinstance(original, base):
            error_cls = replacement
            break
    return error_cls(message + '.')


def _unknown_keys_error(name: str, unknown: List[str],
                        params: ConfigParameters,
                        filled: Tuple[str, ...] = ()) -> ConfigArgumentError:
    """The error for config keys the type does not accept."""
    named = list(params.names)
    parts = []
    for key in unknown:
        matches = close_matches(key, named)
        parts.append(f'{key!r}' +
                     (f' (did you mean {matches[0]!r}?)' if matches else ''))
    accepted = [key for key in named if key not in filled]
    return ConfigArgumentError(
        f'{name} got an unexpected config key ' + ', '.join(parts) +
        f'. It accepts: {", ".join(accepted)}.')


def _argument_error(obj_cls: Callable,
                    args: Dict[str, Any],
                    original: BaseException,
                    filled: Tuple[str, ...] = ()
                    ) -> Optional[ConfigArgumentError]:
    """Explain a constructor's error by the config's keys and values.

    A ``TypeError`` may come from a key (unknown, or a required one
    missing) or a value that does not fit its annotation. Another error
    (``ValueError``, ``KeyError``, ``AssertionError``) is blamed on a value
    only when it does not fit and is clearly the cause: a string where a
    number is expected, or a value or key the original message names.

    Args:
        obj_cls (Callable): The class or function that was called.
        args (dict): The config's keys and the default arguments.
        original (BaseException): What the call raised.
        filled (tuple[str]): Keys the caller filled (``default_args``),
            left out of the list of accepted keys.

    Returns:
        ConfigArgumentError | None: The clearer error, or None.
    """
    name = getattr(obj_cls, '__name__', repr(obj_cls))
    params = config_parameters(obj_cls, args)
    if not params.parameters and not params.complete:
        return None
    if isinstance(original, TypeError):
        if params.complete:
            unknown = [key for key in args if key not in params.parameters]
            if unknown:
                return _unknown_keys_error(name, unknown, params, filled)
        missing = [
            key for key, p in params.parameters.items()
            if p.default is inspect.Parameter.empty and key not in args
        ]
        if missing and any(key in str(original) for key in missing):
            return ConfigArgumentError(
                f'{name} needs the config key(s) {", ".join(missing)} '
                f'({original}).')
    for key, value in args.items():
        hint = params.hints.get(key)
        if hint is None or _value_fits(value, hint) is not False:
            continue
        if (isinstance(original, TypeError)
                or (isinstance(value, str) and _wants_number(hint))
                or repr(key) in str(original) or str(value) in str(original)):
            return _value_error(name, key, value, hint, original)
    return None


def _config_class(cfg: Any, registry: Registry,
                  default_args: Optional[Mapping]
                  ) -> Optional[Tuple[Any, Dict[str, Any], Dict[str, Any]]]:
    """The class a config builds, its own keys and them with the defaults.

    Returns:
        tuple | None: ``(obj_cls or None, own keys, own keys and
        default_args)``; None when ``cfg`` is not a mapping with a type.
        ``obj_cls`` is None when the type is not registered.
    """
    if not isinstance(cfg, abc.Mapping):
        return None
    own = dict(cfg)
    args = dict(own)
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    scope = args.pop('_scope_', None)
    obj_type = args.pop('type', None)  # MMEngine takes it from either
    own.pop('_scope_', None)
    own.pop('type', None)
    with registry.switch_scope_and_registry(scope) as scoped:
        if isinstance(obj_type, str):
            return scoped.get(obj_type), own, args
    if callable(obj_type):
        return obj_type, own, args
    return None


def _check_accepted(cfg: Any, registry: Registry,
                    default_args: Optional[Mapping]
                    ) -> Optional[ConfigArgumentError]:
    """The mistakes a successful build does not report (or only later)."""
    found = _config_class(cfg, registry, default_args)
    if found is None or found[0] is None:
        return None
    obj_cls, own, args = found
    params = config_parameters(obj_cls, args)
    name = getattr(obj_cls, '__name__', repr(obj_cls))
    if params.takes_kwargs and params.complete:
        unknown = [key for key in own if key not in params.parameters]
        if unknown:
            return _unknown_keys_error(
                name, unknown, params, filled=tuple(default_args or ()))
    for key, value in own.items():
        hint = params.hints.get(key)
        if (isinstance(value, str) and hint is not None
                and _wants_number(hint) and _value_fits(value, hint) is False):
            return _value_error(name, key, value, hint, None)
    return None


def _explain(cfg: Any, registry: Registry, default_args: Optional[dict],
             err: Exception) -> Optional[Exception]:
    """The clearer error for a failed build of ``cfg``, or None."""
    found = _config_class(cfg, registry, default_args)
    if found is None:
        return None
    obj_cls, _, args = found
    if obj_cls is None:
        if not isinstance(err, KeyError):
            return None
        obj_type = cfg.get('type', (default_args or {}).get('type'))
        with registry.switch_scope_and_registry(
                cfg.get('_scope_')) as scoped:
            return _unknown_type_error(str(obj_type), scoped)
    return _argument_error(obj_cls, args, err, tuple(default_args or ()))


def build_with_hints(build_func: Callable) -> Callable:
    """Wrap a registry ``build_func`` so config errors name key and type.

    The returned function is called like ``build_func``
    (``cfg, registry=..., default_args=...``) and returns what it returns.
    After a call that succeeded, a key that a constructor taking
    ``**kwargs`` does not accept (its own parameters and those of where
    the ``**kwargs`` go, see
    :func:`~mmreid_unsup.utils.config_parameters.config_parameters`) and a
    string where the annotation asks for a number or a bool raise a
    :class:`ConfigArgumentError`. When the call raises a ``KeyError``
    because ``cfg['type']`` is not registered, the error becomes an
    :class:`UnknownTypeError` suggesting the nearest names of the registry
    and its parents; when it raises a ``TypeError`` that the config
    explains (a key the constructor does not accept, a required key
    missing, a value that does not fit the parameter's annotation), or a
    ``ValueError`` / ``KeyError`` / ``AssertionError`` for a value that does
    not fit, it becomes a :class:`ConfigArgumentError` (of the original's
    kind too) naming the key and the nearest parameter. Errors of nested
    builds are already clear and pass through; other errors propagate
    unchanged. Wrapping twice is a no-op.

    Args:
        build_func (Callable): MMEngine's ``build_from_cfg`` or another
            registry build function.

    Returns:
        Callable: The wrapped build function.
    """
    if getattr(build_func, _WRAPPED, False):
        return build_func

    def build(cfg: Any, *args, **kwargs) -> Any:
        if 'registry' in kwargs:  # Registry.build passes it by name
            registry = kwargs['registry']
            rest = args
        else:
            registry, rest = (args[0], args[1:]) if args else (None, ())
        default_args = kwargs.get('default_args', rest[0] if rest else None)
        try:
            built = build_func(cfg, *args, **kwargs)
        except (UnknownTypeError, ConfigArgumentError) as err:
            # A nested build's error, already clear: say where it was built.
            if isinstance(cfg, abc.Mapping) and hasattr(err, 'add_note'):
                err.add_note(f'while building type={cfg.get("type")!r}')
            raise
        except _EXPLAINED as err:
            if not isinstance(registry, Registry):
                raise
            try:
                clearer = _explain(cfg, registry, default_args, err)
            except Exception:  # never hide the original behind our bug
                clearer = None
            if clearer is None:
                raise
            raise clearer from err
        if isinstance(registry, Registry):
            try:
                late = _check_accepted(cfg, registry, default_args)
            except Exception:  # never fail a good build because of our bug
                late = None
            if late is not None:
                raise late
        return built

    build.__name__ = getattr(build_func, '__name__', 'build')
    build.__doc__ = build_func.__doc__
    build.__wrapped__ = build_func  # type: ignore[attr-defined]
    setattr(build, _WRAPPED, True)
    return build


def hinted_build_func(registry: Registry) -> Callable:
    """:func:`build_with_hints` of ``registry``'s build function, for a
    child registry to be created with (``build_func=``).

    Args:
        registry (Registry): The parent registry.

    Returns:
        Callable: The wrapped build function.
    """
    return build_with_hints(registry.build_func)


#: Serialises :func:`build_hints_on` (enter and exit of nested blocks).
_HINTS_LOCK = threading.RLock()


@contextmanager
def build_hints_on(*registries: Registry) -> Iterator[None]:
    """Inside the block the registries' builds raise the clearer errors.

    For registries this package does not own (MMEngine's roots, through
    which MMEngine's ``Runner`` builds the parts of a config): each one's
    ``build_func`` is wrapped with :func:`build_with_hints` for the
    duration of the block and given back when it ends, even on error, so
    nothing outlives the block. Valid configs build as before. Blocks nest
    (an inner block finds the functions already wrapped).

    Args:
        *registries (Registry): The registries.
    """
    with _HINTS_LOCK:
        originals = [(registry, registry.build_func)
                     for registry in registries]
        for registry, build_func in originals:
            registry.build_func = build_with_hints(build_func)
    try:
        yield
    finally:
        with _HINTS_LOCK:
            for registry, build_func in reversed(originals):
                registry.build_func = build_func
