"""Install mmreid_unsup: ``pip install -e .``.

The ranges below are the versions this toolbox is known to work with;
``requirements/lock.txt`` pins the exact set CI uses.
"""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    """Read ``__version__`` from ``mmreid_unsup/version.py`` without importing."""
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmreid_unsup', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


with open(osp.join(osp.dirname(__file__), 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='mmreid_unsup',
    version=read_version(),
    description='OpenMMLab-style toolbox for unsupervised person '
    're-identification',
    long_description=long_description,
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks')),
    include_package_data=True,
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
