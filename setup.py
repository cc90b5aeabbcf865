"""Install mmreid_unsup: ``pip install -e .``.

As in OpenMMLab's projects, the requirements are read from
``requirements/``: ``runtime.txt`` (``install_requires``: the version
ranges this toolbox is known to work with), ``optional.txt`` (the extras:
faiss, infomap, onnx, plot, and ``all`` of them) and ``tests.txt`` (the
``tests`` extra). ``requirements/lock.txt`` pins the exact set CI installs
(``make venv``); setup.py does not read it.
``tests/test_packaging/test_requirements.py`` checks that every runtime
requirement is imported by the package and every package it imports is
listed.
"""
import os
import os.path as osp
import shutil
import sys
from typing import Dict, List, Optional

from setuptools import find_packages, setup

#: What OpenMMLab's ``mim`` reads from an installed package's ``.mim``
#: folder: the configs, the tools and the model index.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    """Read ``__version__`` from ``mmreid_unsup/version.py``.

    The package is not imported.
    """
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmreid_unsup',
                       'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(name: str) -> List[str]:
    """The requirement lines of ``requirements/<name>.txt`` (comments and
    blank lines dropped; a trailing ``# extra`` comment is removed)."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'requirements',
                    name + '.txt')
    with open(path, encoding='utf-8') as f:
        lines = [line.split('#')[0].strip() for line in f]
    return [line for line in lines if line]


def optional_requirements() -> Dict[str, List[str]]:
    """The extras of ``requirements/optional.txt`` by their ``# NAME``
    comment, plus ``all`` and ``tests``."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'requirements',
                    'optional.txt')
    extras: Dict[str, List[str]] = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            requirement, _, extra = line.partition('#')
            if requirement.strip() and extra.strip():
                extras.setdefault(extra.strip(), []).append(
                    requirement.strip())
    extras['all'] = [r for reqs in extras.values() for r in reqs]
    extras['tests'] = parse_requirements('tests')
    return extras


def mim_mode(argv) -> Optional[str]:
    """How to provide the ``.mim`` files for this setup command: links for
    an editable install (the files stay the repository's), copies for a
    built package, nothing otherwise."""
    if {'develop', 'editable_wheel'} & set(argv):
        return 'symlink'
    if {'sdist', 'bdist_wheel', 'build', 'build_py', 'install'} & set(argv):
        return 'copy'
    return None


def add_mim_extension(mode: Optional[str], repo_root: str) -> None:
    """Put ``MIM_FILES`` into ``mmreid_unsup/.mim`` of ``repo_root``.

    Args:
        mode (str, optional): ``'symlink'`` (relative links; copies where
            links are not allowed), ``'copy'``, or None to do nothing.
        repo_root (str): The repository (the folder of this file).
    """
    if mode is None:
        return
    mim_dir = osp.join(repo_root, 'mmreid_unsup', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(repo_root, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            # A wheel built from an sdist: the sdist's .mim is the source.
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_dir), dst)
                continue
            except OSError:  # e.g. Windows without the privilege
                pass
        if osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def main() -> None:
    repo_root = osp.dirname(osp.abspath(__file__))
    add_mim_extension(mim_mode(sys.argv), repo_root)
    with open(osp.join(repo_root, 'README.md'), encoding='utf-8') as f:
        long_description = f.read()
    setup(
        name='mmreid_unsup',
        version=read_version(),
        description='OpenMMLab-style toolbox for unsupervised person '
        're-identification',
        long_description=long_description,
        long_description_content_type='text/markdown',
        packages=find_packages(
            exclude=('configs', 'tools', 'tests', 'benchmarks')),
        include_package_data=True,
        # The .mim folder (MANIFEST.in): configs, tools and model index.
        python_requires='>=3.9',
        install_requires=parse_requirements('runtime'),
        extras_require=optional_requirements(),
        entry_points={
            'console_scripts': [
                'mmreid-synthetic=mmreid_unsup.datasets.synthetic.cli:main',
            ],
        },
        license='Apache License 2.0',
        zip_safe=False,
    )


if __name__ == '__main__':
    main()
