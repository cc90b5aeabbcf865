"""The published Cluster-Contrast code, imported from a checkout of it.

Benchmarks time it side by side with this toolbox
(``benchmarks/pseudo_labels.py --anchor-dir``) and test references are
computed once with it (``tools/misc/cluster_contrast_reference_jaccard.py``).
It is never a dependency and never copied here: the user points at a
checkout of :data:`ANCHOR_URL`.
"""
import hashlib
import importlib
import sys
from pathlib import Path
from typing import Callable, Union

#: The module of a checkout whose ``compute_jaccard_distance`` is run.
ANCHOR_MODULE = Path('clustercontrast') / 'utils' / 'faiss_rerank.py'
ANCHOR_URL = 'https://github.com/alibaba/cluster-contrast-reid'


def anchor_module_path(anchor_dir: Union[str, Path]) -> Path:
    """Where :data:`ANCHOR_MODULE` of the checkout ``anchor_dir`` is.

    Raises:
        FileNotFoundError: it is not there; the message names the path.
    """
    expected = Path(anchor_dir).resolve() / ANCHOR_MODULE
    if not expected.is_file():
        raise FileNotFoundError(
            f'--anchor-dir {anchor_dir}: expected a checkout of '
            f'{ANCHOR_URL} holding {ANCHOR_MODULE}, but {expected} does not '
            'exist')
    return expected


def anchor_module_sha256(anchor_dir: Union[str, Path]) -> str:
    """The hex sha256 of the checkout's :data:`ANCHOR_MODULE`, which names
    the code that ran (the checkout may have no git metadata)."""
    return hashlib.sha256(
        anchor_module_path(anchor_dir).read_bytes()).hexdigest()


def load_compute_jaccard_distance(anchor_dir: Union[str, Path]) -> Callable:
    """The checkout's ``compute_jaccard_distance``.

    Args:
        anchor_dir (str | Path): the root of a checkout of
            :data:`ANCHOR_URL` (the directory holding ``clustercontrast/``).

    Returns:
        Callable: ``compute_jaccard_distance(target_features, k1, k2,
        print_flag, search_option, use_float16)``.

    Raises:
        FileNotFoundError: ``anchor_dir`` has no :data:`ANCHOR_MODULE`.
        ImportError: the module cannot be imported, or a
            ``clustercontrast`` package other than the checkout's was.
    """
    expected = anchor_module_path(anchor_dir)
    sys.path.insert(0, str(expected.parents[2]))
    try:
        module = importlib.import_module('clustercontrast.utils.faiss_rerank')
    except Exception as exc:
        raise ImportError(
            f'--anchor-dir {anchor_dir}: importing '
            f'clustercontrast.utils.faiss_rerank failed: {exc!r}') from exc
    if Path(module.__file__).resolve() != expected:
        raise ImportError(
            f'--anchor-dir {anchor_dir}: imported {module.__file__}, not '
            f'{expected} (another clustercontrast package is installed)')
    return module.compute_jaccard_distance
