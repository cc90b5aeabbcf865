"""Fingerprint every leaf config: the sha256 of its merged ``pretty_text``.

A leaf config is any config under ``configs/`` outside ``configs/_base_/``.
Its fingerprint changes exactly when what it merges to changes (the text is
sorted by key at every level, so the order of the keys in the files does not
matter; the order of list items does). Benchmark results are keyed by these
digests: a restructuring of the bases must leave them all as they are.

``python tools/misc/config_fingerprints.py [--out FILE] [--check FILE]
[--depth]``

- no option: print ``DIGEST  PATH`` per leaf;
- ``--out FILE``: also write ``{path: digest}`` as JSON;
- ``--check FILE``: compare with such a JSON, list every leaf whose digest
  changed, which is missing or new, and exit 1 if any;
- ``--depth``: print each leaf's ``_base_`` depth instead (a leaf with
  bases is 1 deep, 2 if one of its bases has bases of its own, ...).
"""
import argparse
import ast
import hashlib
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.config import Config

#: ``configs/`` of this repository.
CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs')
BASE_DIR = BASE_KEY = '_base_'


def leaf_configs(root: str = CONFIG_ROOT) -> List[str]:
    """Every ``.py`` config under ``root`` but ``root/_base_``, sorted."""
    leaves = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if not (folder == root and d == BASE_DIR))
        leaves += [osp.join(folder, f) for f in files if f.endswith('.py')]
    return sorted(leaves)


def config_key(path: str, root: str = CONFIG_ROOT) -> str:
    """``configs/<method>/<file>.py``: the path from the repository root."""
    return osp.relpath(path, osp.dirname(osp.abspath(root)))


def fingerprint(path: str) -> str:
    """sha256 of the merged config's ``pretty_text``."""
    text = Config.fromfile(path).pretty_text
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def fingerprints(root: str = CONFIG_ROOT) -> Dict[str, str]:
    """``{configs/...py: digest}`` for every leaf config under ``root``."""
    return {
        config_key(path, root): fingerprint(path)
        for path in leaf_configs(root)
    }


def base_files(path: str) -> List[str]:
    """The absolute paths of a config's direct ``_base_`` files."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == BASE_KEY):
            bases = ast.literal_eval(node.value)
            if isinstance(bases, str):
                bases = [bases]
            return [
                osp.normpath(osp.join(osp.dirname(path), base))
                for base in bases
            ]
    return []



def base_depth(path: str) -> int:
    """0 without ``_base_``, else 1 + the depth of its deepest base."""
    bases = base_files(path)
    return 1 + max(map(base_depth, bases)) if bases else 0


def compare(before: Dict[str, str], after: Dict[str, str]) -> List[str]:
    """One line per leaf whose digest changed, or that is missing or new."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f'missing  {key}')
        elif key not in before:
            lines.append(f'new      {key}')
        elif before[key] != after[key]:
            lines.append(f'changed  {key}')
    return lines


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='sha256 of every leaf config, merged')
    parser.add_argument(
        '--root', default=CONFIG_ROOT, help='the configs folder')
    parser.add_argument('--out', help='write {path: digest} as JSON here')
    parser.add_argument(
        '--check', help='compare with a JSON written by --out')
    parser.add_argument(
        '--depth',
        action='store_true',
        help="print each leaf's _base_ depth instead")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    root = osp.abspath(args.root)
    if args.depth:
        for path in leaf_configs(root):
            print(f'{base_depth(path)}  {config_key(path, root)}')
        return 0
    digests = fingerprints(root)
    for key, digest in digests.items():
        print(f'{digest}  {key}')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(digests, f, indent=2, sort_keys=True)
            f.write('\n')
    if args.check:
        with open(args.check, encoding='utf-8') as f:
            differences = compare(json.load(f), digests)
        for line in differences:
            print(line, file=sys.stderr)
        print(f'{len(digests)} leaf configs, {len(differences)} differ',
              file=sys.stderr)
        return 1 if differences else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
