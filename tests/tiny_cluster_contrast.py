"""Paths and the tiny Cluster-Contrast config shared by many tests.

A plain module (not ``conftest``) so tests in any folder can import it
without clashing with folder-level ``conftest.py`` files.
"""
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Optional

from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``../shared`` beside the repository; ``MMREID_SHARED_DIR`` overrides."""
    return Path(
        os.environ.get('MMREID_SHARED_DIR', REPO_ROOT.parent / 'shared'))


#: The configs' in-repository data paths (``make data`` links them) and
#: where each one is in ``shared_dir()``.
SHARED_LINKS = {
    'data/cuhk03': ('data', 'cuhk03'),
    'data/weights': ('weights', ),
}


def with_shared_paths(node: Any) -> Any:
    """A copy of a config tree (a dict, ``Config`` or list) whose
    ``data/cuhk03`` and ``data/weights`` paths point into ``shared_dir()``.

    The configs read the CUHK03 crops and torchreid's weights under
    ``data/``, which a fresh clone has not linked yet (``make data``);
    tests find them through ``shared_dir()`` instead.
    """
    if isinstance(node, dict):
        return {k: with_shared_paths(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(with_shared_paths(v) for v in node)
    if isinstance(node, str):
        for link, parts in SHARED_LINKS.items():
            if node == link or node.startswith(link + '/'):
                return str(shared_dir().joinpath(*parts)) + node[len(link):]
    return node


def load_script(path: Path,
                name: str,
                import_root: Optional[Path] = None) -> ModuleType:
    """Import a script of ``tools/`` or ``benchmarks/`` (not a package
    module) as a fresh module called ``name``.

    Args:
        path (Path): The script.
        name (str): The module's name.
        import_root (Path, optional): A folder put on ``sys.path`` while
            the script is imported, for the sibling scripts it imports
            (``tools/test.py`` imports ``tools/train.py``).

    Returns:
        ModuleType: The module.
    """
    if import_root is not None:
        sys.path.insert(0, str(import_root))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if import_root is not None:
            sys.path.remove(str(import_root))
    return module


def free_port() -> int:
    """A TCP port nobody listens on now, for a test's torchrun rendezvous.

    Tests that launch two gloo processes must not share a port with each
    other or with another suite on the machine: a port the system picked
    (bind to port 0) is free at the time of the call.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def dist_train_env(module_dir: Path) -> Dict[str, str]:
    """Environment for ``tools/dist_train.sh`` in a test: a free port, no
    GPU, this venv's ``torchrun``, and ``module_dir`` importable (for the
    probe hooks a test writes there).

    Args:
        module_dir (Path): A folder put first on ``PYTHONPATH``.

    Returns:
        dict: The environment.
    """
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(module_dir), str(REPO_ROOT), env.get('PYTHONPATH', '')])
    env['PORT'] = str(free_port())
    env['CUDA_VISIBLE_DEVICES'] = ''
    bin_dir = os.path.dirname(sys.executable)
    env['PATH'] = bin_dir + os.pathsep + env.get('PATH', '')
    return env


def dist_train_command(config: Path, work_dir: Path,
                       nproc: int = 2) -> List[str]:
    """``bash tools/dist_train.sh CONFIG NPROC --work-dir WORK_DIR``."""
    return [
        'bash',
        str(REPO_ROOT / 'tools' / 'dist_train.sh'),
        str(config),
        str(nproc), '--work-dir',
        str(work_dir)
    ]


def run_dist_train(config: Path, tmp_path: Path,
                   nproc: int = 2) -> subprocess.CompletedProcess:
    """Train ``config`` with ``nproc`` gloo processes; ``tmp_path`` holds the
    test's probe modules and the work dir (``tmp_path / 'work'``)."""
    return subprocess.run(
        dist_train_command(config, tmp_path / 'work', nproc),
        cwd=REPO_ROOT,
        env=dist_train_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600)


#: The demo recipe shrunk to seconds (OSNet-x0.25 at 32x16, few
#: iterations), and the same on ResNet-18 (a second architecture).
TINY_CONFIG = REPO_ROOT / 'tests' / 'data' / 'configs' / 'tiny_synthetic.py'
TINY_R18_CONFIG = TINY_CONFIG.with_name('tiny_synthetic_r18.py')


def tiny_cfg(data_root: Path,
             work_dir: Path,
             base: Path = TINY_CONFIG,
             **overrides) -> Config:
    """The demo recipe shrunk to seconds: 32x16 input, few iterations.

    Args:
        data_root (Path): A synthetic set from ``tiny_synthetic_root``.
        work_dir (Path): Where logs and checkpoints go.
        base (Path): The tiny config: :data:`TINY_CONFIG` (OSNet-x0.25) or
            :data:`TINY_R18_CONFIG` (ResNet-18).
        **overrides: Merged into the config (``Config.merge_from_dict``).

    Returns:
        Config: A config ready for ``build_runner``.
    """
    from tiny_configs import tiny_method_cfg  # tiny_configs imports this
    return tiny_method_cfg(base, data_root, work_dir, **overrides)
