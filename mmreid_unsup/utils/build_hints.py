"""Config errors that name the key and suggest the nearest valid name.

MMEngine builds every part of a run from a config dict through a registry's
``build_func``. When the dict is wrong, the user sees a bare registry
``KeyError`` (unknown ``type``) or Python's ``TypeError`` from the
constructor (misspelt key, wrong value type). :func:`build_with_hints` wraps
a ``build_func`` so that these errors name the type and the key and suggest
the nearest registered name or parameter (:mod:`difflib`).

Nothing changes when a build succeeds: the wrapped function is called as it
was, and the failing config is examined only after it raised. The new errors
are subclasses of the ones they replace (:class:`UnknownTypeError` of
``KeyError``, :class:`ConfigArgumentError` of ``TypeError``) and chain the
original (``raise ... from``), so code that caught them keeps working. An
error the config does not explain (a bug inside a constructor) propagates
unchanged.
"""
import difflib
import inspect
import numbers
import typing
from collections import abc
from typing import Any, Callable, Dict, List, Optional

from mmengine.registry import Registry

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


def _parameters(obj_cls: Callable) -> Optional[Dict[str, inspect.Parameter]]:
    """The keyword parameters of a class's constructor or a function."""
    try:
        signature = inspect.signature(obj_cls)
    except (TypeError, ValueError):
        return None
    return dict(signature.parameters)


def _type_hints(obj_cls: Callable) -> Dict[str, Any]:
    target = obj_cls.__init__ if inspect.isclass(obj_cls) else obj_cls
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references and the like
        return {}


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
    if origin is typing.Union:
        verdicts = [_value_fits(value, arg) for arg in typing.get_args(hint)]
        if any(v is True for v in verdicts):
            return True
        return False if all(v is False for v in verdicts) else None
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is not None:
        hint = origin
    if hint is float:
        return isinstance(value, numbers.Real)
    if hint is int:
        return isinstance(value, numbers.Integral)
    if hint in (list, tuple) or hint is abc.Sequence:
        return isinstance(value, _SEQUENCES) and not isinstance(value, str)
    if hint in _PLAIN:
        return isinstance(value, hint)
    return None


def _describe_hint(hint: Any) -> str:
    text = getattr(hint, '__name__', None) or str(hint)
    return text.replace('typing.', '')


def _argument_error(obj_cls: Callable, args: Dict[str, Any],
                    original: TypeError) -> Optional[ConfigArgumentError]:
    """Explain a constructor's TypeError by the config's keys and values."""
    name = getattr(obj_cls, '__name__', repr(obj_cls))
    params = _parameters(obj_cls)
    if params is None:
        return None
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD
                      for p in params.values())
    named = [
        key for key, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                      inspect.Parameter.KEYWORD_ONLY)
    ]
    if not accepts_any:
        unknown = [key for key in args if key not in params]
        if unknown:
            parts = []
            for key in unknown:
                matches = close_matches(key, named)
                parts.append(f'{key!r}' + (
                    f' (did you mean {matches[0]!r}?)' if matches else ''))
            return ConfigArgumentError(
                f'{name} got an unexpected config key ' + ', '.join(parts) +
                f'. It accepts: {", ".join(named)}.')
    missing = [
        key for key in named if params[key].default is inspect.Parameter.empty
        and key not in args
    ]
    if missing and any(key in str(original) for key in missing):
        return ConfigArgumentError(
            f'{name} needs the config key(s) {", ".join(missing)} '
            f'({original}).')
    hints = _type_hints(obj_cls)
    for key, value in args.items():
        if key in hints and _value_fits(value, hints[key]) is False:
            return ConfigArgumentError(
                f'{name}: config key {key!r} has the value {value!r} of type '
                f'{type(value).__name__}, but {key} must be '
                f'{_describe_hint(hints[key])} ({type(original).__name__}: '
                f'{original}).')
    return None


def _explain(cfg: Any, registry: Registry, default_args: Optional[dict],
             err: Exception) -> Optional[Exception]:
    """The clearer error for a failed build of ``cfg``, or None."""
    if not isinstance(cfg, abc.Mapping):
        return None
    args = dict(cfg)
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    scope = args.pop('_scope_', None)
    obj_type = args.pop('type', None)
    with registry.switch_scope_and_registry(scope) as scoped:
        if isinstance(obj_type, str):
            obj_cls = scoped.get(obj_type)
            if obj_cls is None:
                return (_unknown_type_error(obj_type, scoped)
                        if isinstance(err, KeyError) else None)
        elif callable(obj_type):
            obj_cls = obj_type
        else:
            return None
    if isinstance(err, TypeError):
        return _argument_error(obj_cls, args, err)
    return None


def build_with_hints(build_func: Callable) -> Callable:
    """Wrap a registry ``build_func`` so config errors name key and type.

    The returned function is called like ``build_func``
    (``cfg, registry=..., default_args=...``) and returns what it returns.
    When it raises a ``KeyError`` because ``cfg['type']`` is not registered,
    the error becomes an :class:`UnknownTypeError` suggesting the nearest
    names of the registry and its parents; when it raises a ``TypeError``
    that the config explains (a key the constructor does not accept, a
    required key missing, a value that does not fit the parameter's
    annotation) it becomes a :class:`ConfigArgumentError` naming the key and
    the nearest parameter. Errors of nested builds are already clear and
    pass through; other errors propagate unchanged. Wrapping twice is a
    no-op.

    Args:
        build_func (Callable): MMEngine's ``build_from_cfg`` or another
            registry build function.

    Returns:
        Callable: The wrapped build function.
    """
    if getattr(build_func, _WRAPPED, False):
        return build_func

    def build(cfg: Any, *args, **kwargs) -> Any:
        try:
            return build_func(cfg, *args, **kwargs)
        except (UnknownTypeError, ConfigArgumentError) as err:
            # A nested build's error, already clear: say where it was built.
            if isinstance(cfg, abc.Mapping) and hasattr(err, 'add_note'):
                err.add_note(f'while building type={cfg.get("type")!r}')
            raise
        except (KeyError, TypeError) as err:
            if 'registry' in kwargs:  # Registry.build passes it by name
                registry = kwargs['registry']
                rest = args
            else:
                registry, rest = (args[0], args[1:]) if args else (None, ())
            default_args = kwargs.get('default_args',
                                      rest[0] if rest else None)
            if not isinstance(registry, Registry):
                raise
            try:
                clearer = _explain(cfg, registry, default_args, err)
            except Exception:  # never hide the original behind our bug
                clearer = None
            if clearer is None:
                raise
            raise clearer from err

    build.__name__ = getattr(build_func, '__name__', 'build')
    build.__doc__ = build_func.__doc__
    build.__wrapped__ = build_func  # type: ignore[attr-defined]
    setattr(build, _WRAPPED, True)
    return build


def add_build_hints(*registries: Registry) -> None:
    """Make the registries' builds raise the clearer errors (idempotent).

    Args:
        *registries (Registry): Registries whose ``build_func`` is wrapped
            with :func:`build_with_hints`.
    """
    for registry in registries:
        registry.build_func = build_with_hints(registry.build_func)
