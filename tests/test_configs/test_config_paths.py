"""No config reads a path outside the repository.

Datasets and third-party weights live under ``data/`` (``make data`` links
the shared CUHK03 crops and torchreid's weights there), as in OpenMMLab; a
config naming ``../somewhere`` or an absolute path only works on the machine
it was written on. Every config under ``configs/`` (bases included) is
merged and each string in it checked.
"""
import os.path as osp
from typing import Any, Iterator, Tuple

import pytest
from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT

CONFIGS = sorted((REPO_ROOT / 'configs').rglob('*.py'))


def _strings(node: Any, key: str = '') -> Iterator[Tuple[str, str]]:
    """Every (dotted key, string) of a merged config."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _strings(value, f'{key}.{name}' if key else str(name))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _strings(value, f'{key}[{i}]')
    elif isinstance(node, str):
        yield key, node


def _outside(value: str) -> bool:
    return (value == '..' or value.startswith(('../', '..\\', '~'))
            or osp.isabs(value))


def test_the_configs_are_found():
    names = {p.name for p in CONFIGS}
    assert len(CONFIGS) > 50
    assert {'cuhk03_dev.py', 'cpu_cuhk03-dev_osnet-x0.25-msmt17.py'} <= names


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: str(p.relative_to(REPO_ROOT / 'configs')))
def test_reads_no_path_outside_the_repository(path):
    cfg = Config.fromfile(str(path)).to_dict()
    cfg.pop('filename', None)
    outside = [(key, value) for key, value in _strings(cfg)
               if _outside(value)]
    assert not outside, outside


def test_the_check_catches_a_path_outside(tmp_path):
    config = tmp_path / 'outside.py'
    config.write_text("data_root = '../shared/data/cuhk03'\n"
                      "w = dict(checkpoint='/abs/osnet.pth')\n")
    cfg = Config.fromfile(str(config)).to_dict()
    assert [k for k, v in _strings(cfg) if _outside(v)] == [
        'data_root', 'w.checkpoint'
    ]
