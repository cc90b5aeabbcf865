"""Read the model zoo index: ``model-index.yml`` and its ``metafile.yml``.

The format is OpenMMLab's (``Import`` / ``Collections`` / ``Models``) with
two additions every entry must carry: ``SHA256`` (the full checksum of the
weights file) and, in each result, the ``Split`` and ``Protocol`` the numbers
were measured with. ``model_zoo/README.md`` documents the schema.

The index read by default is the repository's ``model-index.yml`` (at its
root, importing ``configs/<method>/metafile.yml``, the layout ``mim``
reads); the environment variable ``MMREID_ZOO_INDEX`` names another one.
Relative paths in an index (configs, in-repository weights) are relative to
the folder holding its ``model-index.yml``.

The files are read here, not with ``modelindex`` (the reader of OpenMMLab's
``mim``; ``tests/test_model_zoo/test_zoo_index.py`` checks that it reads
the same entries): it would save the ``Import`` walk only, accepts any
field (so every check of the schema above would remain), and would add it
and its own dependencies (click, Markdown, ordered-set) to every install.
"""
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Union
from urllib.parse import urlsplit

import yaml

from .errors import IndexFormatError, UnknownModelError

__all__ = [
    'ENV_INDEX', 'DEFAULT_INDEX', 'REPO_ROOT', 'ZooResult', 'ZooModel',
    'ModelIndex', 'index_path', 'load_index'
]

PathLike = Union[str, os.PathLike]

#: Environment variable naming another index file.
ENV_INDEX = 'MMREID_ZOO_INDEX'
#: The repository of this package (configs are relative to it).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The index shipped with the repository.
DEFAULT_INDEX = REPO_ROOT / 'model-index.yml'

# What ``zoo://NAME`` accepts: no spaces, no slashes.
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]*$')
_SHA256_RE = re.compile(r'^[0-9a-f]{64}$')
_URL_SCHEMES = ('http', 'https', 'file')
_REQUIRED_METADATA = ('Training Data', 'Training Resources')
_REQUIRED_RESULT = ('Task', 'Dataset', 'Split', 'Protocol', 'Metrics')
# How many close names an unknown-name error suggests.
_NUM_SUGGESTIONS = 5


@dataclass(frozen=True)
class ZooResult:
    """One measurement of a released checkpoint.

    Attributes:
        task (str): e.g. ``'Person Re-Identification'``.
        dataset (str): The test set, e.g. ``'Market-1501'``.
        split (str): What was ranked, e.g. ``'query / bounding_box_test'``.
        protocol (str): How, e.g. ``'single query, standard junk rule, no
            re-ranking, last epoch'``.
        metrics (dict[str, float]): Metric name -> value (percent).
    """
    task: str
    dataset: str
    split: str
    protocol: str
    metrics: Dict[str, float]


@dataclass(frozen=True)
class ZooModel:
    """One released checkpoint (a ``Models`` entry).

    Attributes:
        name (str): The name used by ``zoo://NAME`` and :func:`get_model`.
        config (str): The config path as written in the metafile.
        weights (str): The URL of the checkpoint, or its path inside the
            repository (relative to the repository root, ``/``-separated),
            for checkpoints released with the code.
        sha256 (str): Lower-case hex sha256 of the checkpoint file.
        metafile (Path): The metafile that declares the entry.
        collection (str, optional): The ``In Collection`` name.
        metadata (dict): ``Metadata`` (training data, resources, ...).
        results (list[ZooResult]): The measurements.
        raw (dict): The entry as read from YAML.
        root (Path, optional): The folder of the ``model-index.yml`` the
            entry was read through; relative paths start there.
    """
    name: str
    config: str
    weights: str
    sha256: str
    metafile: Path
    collection: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    results: List[ZooResult] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)
    root: Optional[Path] = None

    @property
    def filename(self) -> str:
        """The file name of the weights (the last part of the URL path):
        the name in the cache directory and on a mirror."""
        return urlsplit(self.weights).path.rsplit('/', 1)[-1]

    @property
    def in_repository(self) -> bool:
        """Whether the weights are a file of the repository, not a URL."""
        return not urlsplit(self.weights).scheme

    @property
    def repository_file(self) -> Optional[Path]:
        """The weights' path in this checkout, for in-repository weights
        (None for a URL)."""
        if not self.in_repository:
            return None
        return (self.root or REPO_ROOT) / self.weights

    def config_candidates(self,
                          index_file: Optional[Path] = None) -> List[Path]:
        """Where the config may be, in the order :meth:`config_path` tries.

        Args:
            index_file (Path, optional): The ``model-index.yml`` the entry
                was read through; its folder is the repository root of
                that index. Defaults to the entry's :attr:`root`.

        Returns:
            list[Path]: The candidate paths.
        """
        path = Path(self.config).expanduser()
        if path.is_absolute():
            return [path]
        roots = []
        if index_file is not None:
            roots.append(index_file.parent)
        if self.root is not None:
            roots.append(self.root)
        roots += [self.metafile.parent, REPO_ROOT]
        candidates: List[Path] = []
        for root in roots:
            candidate = (root / path).resolve()
            if candidate not in candidates:
                candidates.append(candidate)
        return candidates

    def config_path(self, index_file: Optional[Path] = None) -> Path:
        """The config file of the entry.

        A relative ``Config`` is looked up relative to the repository root
        of the index (the folder holding ``model-index.yml``), then to the
        metafile's folder, then to this package's repository.

        Args:
            index_file (Path, optional): The index the entry came from.

        Returns:
            Path: The first candidate that exists.

        Raises:
            FileNotFoundError: No candidate exists.
        """
        candidates = self.config_candidates(index_file)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        tried = ', '.join(str(c) for c in candidates)
        raise FileNotFoundError(
            f'model zoo entry {self.name!r}: config {self.config!r} not found '
            f'(tried {tried}); the configs come with a source checkout of '
            'mmreid_unsup')


class ModelIndex:
    """The models of an index, by name.

    Args:
        path (Path): The ``model-index.yml`` read.
        models (dict[str, ZooModel]): The entries, in file order.
        collections (dict[str, dict]): The ``Collections`` by name.
    """

    def __init__(self, path: Path, models: Dict[str, ZooModel],
                 collections: Dict[str, Dict[str, Any]]) -> None:
        self.path = path
        self.models = models
        self.collections = collections

    @classmethod
    def load(cls, path: Optional[PathLike] = None) -> 'ModelIndex':
        """Read an index and the metafiles it imports.

        Args:
            path (str | PathLike, optional): The index file. Defaults to
                :func:`index_path` (``$MMREID_ZOO_INDEX`` or the shipped
                ``model-index.yml``).

        Returns:
            ModelIndex: The index; it may hold no model.

        Raises:
            FileNotFoundError: The index or an imported metafile is missing.
            IndexFormatError: A file does not follow the schema.
        """
        path = Path(path).expanduser() if path is not None else index_path()
        if not path.is_file():
            hint = ('' if os.environ.get(ENV_INDEX) else
                    f' (set {ENV_INDEX} to the model-index.yml to use)')
            raise FileNotFoundError(
                f'model zoo index not found: {path}{hint}')
        path = path.resolve()
        models: Dict[str, ZooModel] = {}
        collections: Dict[str, Dict[str, Any]] = {}
        _read_file(path, models, collections, visited=set(), root=path.parent)
        _check_index(path, models, collections)
        return cls(path, models, collections)

    def __len__(self) -> int:
        return len(self.models)

    def __iter__(self) -> Iterator[ZooModel]:
        return iter(self.models.values())

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def names(self) -> List[str]:
        """The model names, in file order."""
        return list(self.models)

    def get(self, name: str) -> ZooModel:
        """The entry called ``name``.

        Args:
            name (str): A model name (``zoo://`` is stripped).

        Returns:
            ZooModel: The entry.

        Raises:
            UnknownModelError: No such name; the message lists the close
                names, or says that the index is empty.
        """
        if name.startswith('zoo://'):
            name = name[len('zoo://'):]
        if name in self.models:
            return self.models[name]
        if not self.models:
            raise UnknownModelError(
                f'unknown model zoo name {name!r}: the index {self.path} '
                'holds no model yet (no checkpoint has been released)')
        by_lower = {n.lower(): n for n in self.models}
        close = difflib.get_close_matches(
            name.lower(), list(by_lower), n=_NUM_SUGGESTIONS, cutoff=0.5)
        if close:
            hint = 'did you mean {}?'.format(', '.join(
                repr(by_lower[c]) for c in close))
        else:
            hint = 'run `python tools/model_zoo.py list` for the names'
        raise UnknownModelError(
            f'unknown model zoo name {name!r} in {self.path}: {hint}')

    def config_path(self, name: str) -> Path:
        """The config file of the entry ``name`` (see
        :meth:`ZooModel.config_path`)."""
        return self.get(name).config_path(self.path)


def index_path() -> Path:
    """The index file to read: ``$MMREID_ZOO_INDEX`` if set, else the
    repository's ``model-index.yml``.

    Returns:
        Path: The path (not checked).
    """
    env = os.environ.get(ENV_INDEX)
    return Path(env).expanduser() if env else DEFAULT_INDEX


def load_index(path: Optional[PathLike] = None) -> ModelIndex:
    """:meth:`ModelIndex.load`."""
    return ModelIndex.load(path)


def _read_yaml(path: Path) -> Mapping[str, Any]:
    """A YAML mapping (an empty file is an empty mapping)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise IndexFormatError(f'{path}: not valid YAML: {err}') from err
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise IndexFormatError(
            f'{path}: expected a mapping with Import / Collections / Models, '
            f'got {type(data).__name__}')
    unknown = set(data) - {'Import', 'Collections', 'Models'}
    if unknown:
        raise IndexFormatError(
            f'{path}: unknown top-level keys {sorted(unknown)}; expected '
            'Import, Collections, Models')
    return data


def _as_list(value: Any, what: str, path: Path) -> list:
    """``value`` as a list (None and a missing key are empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise IndexFormatError(
            f'{path}: {what} must be a list, got {type(value).__name__}')
    return value


def _read_file(path: Path, models: Dict[str, ZooModel],
               collections: Dict[str, Dict[str, Any]],
               visited: Set[Path], root: Path) -> None:
    """Add the collections and models of ``path`` and of what it imports
    (``root``: the folder of the top-level index)."""
    if path in visited:
        raise IndexFormatError(f'{path}: imported twice (an Import cycle?)')
    visited.add(path)
    data = _read_yaml(path)
    for item in _as_list(data.get('Import'), 'Import', path):
        if not isinstance(item, str):
            raise IndexFormatError(
                f'{path}: Import entries must be paths, got {item!r}')
        child = (path.parent / item).resolve()
        if not child.is_file():
            raise FileNotFoundError(
                f'{path}: imported metafile not found: {item} ({child})')
        _read_file(child, models, collections, visited, root)
    for item in _as_list(data.get('Collections'), 'Collections', path):
        name = item.get('Name') if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise IndexFormatError(
                f'{path}: every collection needs a Name, got {item!r}')
        if name in collections:
            raise IndexFormatError(f'{path}: collection {name!r} declared '
                                   'twice')
        collections[name] = dict(item)
    for item in _as_list(data.get('Models'), 'Models', path):
        model = _parse_model(item, path, root)
        if model.name in models:
            raise IndexFormatError(
                f'{path}: model {model.name!r} already declared in '
                f'{models[model.name].metafile}')
        models[model.name] = model


def _require(entry: Mapping[str, Any], key: str, where: str,
             path: Path) -> Any:
    if entry.get(key) in (None, ''):
        raise IndexFormatError(f'{path}: {where}: missing {key!r}')
    return entry[key]


def _parse_model(entry: Any, path: Path, root: Optional[Path] = None
                 ) -> ZooModel:
    """Check one ``Models`` entry against the schema and convert it."""
    if not isinstance(entry, Mapping):
        raise IndexFormatError(
            f'{path}: a Models entry must be a mapping, got {entry!r}')
    name = _require(entry, 'Name', 'model entry', path)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise IndexFormatError(
            f'{path}: model name {name!r} must be letters, digits and '
            '"._+-" (it is used as zoo://NAME)')
    where = f'model {name!r}'
    config = str(_require(entry, 'Config', where, path))
    weights = _require(entry, 'Weights', where, path)
    if not isinstance(weights, str):
        raise IndexFormatError(
            f'{path}: {where}: Weights must be a URL or a repository path, '
            f'got {weights!r}')
    _check_weights(weights, where, path)
    sha256 = str(_require(entry, 'SHA256', where, path)).strip().lower()
    if not _SHA256_RE.match(sha256):
        raise IndexFormatError(
            f'{path}: {where}: SHA256 must be 64 hex digits, got '
            f'{entry["SHA256"]!r}')
    metadata = _require(entry, 'Metadata', where, path)
    if not isinstance(metadata, Mapping):
        raise IndexFormatError(f'{path}: {where}: Metadata must be a mapping')
    for key in _REQUIRED_METADATA:
        _require(metadata, key, f'{where} Metadata', path)
    results = []
    for result in _as_list(
            _require(entry, 'Results', where, path), f'{where} Results', path):
        if not isinstance(result, Mapping):
            raise IndexFormatError(
                f'{path}: {where}: a result must be a mapping, got '
                f'{result!r}')
        for key in _REQUIRED_RESULT:
            _require(result, key, f'{where} result', path)
        metrics = result['Metrics']
        if not isinstance(metrics, Mapping) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in metrics.values()):
            raise IndexFormatError(
                f'{path}: {where}: Metrics must map names to numbers, got '
                f'{metrics!r}')
        results.append(
            ZooResult(
                task=str(result['Task']),
                dataset=str(result['Dataset']),
                split=str(result['Split']),
                protocol=str(result['Protocol']),
                metrics={str(k): float(v)
                         for k, v in metrics.items()}))
    collection = entry.get('In Collection')
    return ZooModel(
        name=name,
        config=config,
        weights=weights,
        sha256=sha256,
        metafile=path,
        collection=str(collection) if collection is not None else None,
        metadata=dict(metadata),
        results=results,
        raw=dict(entry),
        root=root)


def _check_weights(weights: str, where: str, path: Path) -> None:
    """A URL of a file, or a relative path inside the repository."""
    parts = urlsplit(weights)
    if not parts.scheme:
        pure = PurePosixPath(weights)
        if (pure.is_absolute() or '\\' in weights or '..' in pure.parts
                or not pure.name or weights.endswith('/')):
            raise IndexFormatError(
                f'{path}: {where}: Weights without a URL scheme must be a '
                'file path inside the repository, relative to its root and '
                f'/-separated (e.g. model_zoo/checkpoints/NAME.pth), got '
                f'{weights!r}')
        return
    if parts.scheme not in _URL_SCHEMES or not parts.path.rsplit('/', 1)[-1]:
        raise IndexFormatError(
            f'{path}: {where}: Weights must be an {"/".join(_URL_SCHEMES)} '
            'URL of a file or a file path inside the repository, got '
            f'{weights!r}')


def _check_index(path: Path, models: Dict[str, ZooModel],
                 collections: Dict[str, Dict[str, Any]]) -> None:
    """Checks across entries: collections exist, file names are unique (the
    cache and mirrors store the files flat by name)."""
    by_file: Dict[str, str] = {}
    for model in models.values():
        if model.collection is not None and model.collection not in (
                collections):
            raise IndexFormatError(
                f'{model.metafile}: model {model.name!r} is In Collection '
                f'{model.collection!r}, which no metafile of {path} '
                'declares')
        other = by_file.setdefault(model.filename, model.name)
        if other != model.name:
            raise IndexFormatError(
                f'{model.metafile}: models {other!r} and {model.name!r} have '
                f'the same weights file name {model.filename!r}; the cache '
                'and mirrors store files by name, so names must be unique')
