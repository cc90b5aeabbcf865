"""Install mmreid_unsup: ``pip install -e .``.

The ranges below are the versions this toolbox is known to work with;
``requirements/lock.txt`` pins the exact set CI uses.
"""
import os
import os.path as osp
import shutil
import sys
from typing import Optional

from setuptools import find_packages, setup

#: What OpenMMLab's ``mim`` reads from an installed package's ``.mim``
#: folder: the configs, the tools and the model index.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    """Read ``__version__`` from ``mmreid_unsup/version.py`` without importing."""
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmreid_unsup', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


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
        install_requires=[
            'torch>=2.1,<2.15',
            'torchvision>=0.16,<0.30',
            'mmengine>=0.10.4,<0.11',
            'mmcv-lite>=2.1.0,<2.3',
            'numpy>=1.24,<3',
            'scipy>=1.10',
            'scikit-learn>=1.3',
            'opencv-python>=4.7',
            'pillow>=9.5',
            'tqdm>=4.60',
            'rich>=13',
        ],
        extras_require={
            'faiss': ['faiss-cpu>=1.7.4'],
            'infomap': ['infomap>=2.6'],
            'onnx': ['onnx>=1.14', 'onnxruntime>=1.16'],
            'plot': ['matplotlib>=3.7'],
            'all': [
                'faiss-cpu>=1.7.4', 'infomap>=2.6', 'onnx>=1.14',
                'onnxruntime>=1.16', 'matplotlib>=3.7'
            ],
            'tests': ['pytest>=7', 'pytest-xdist>=3'],
        },
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
