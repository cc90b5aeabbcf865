"""Print a config with every ``_base_`` resolved.

``python tools/misc/print_config.py CONFIG [--cfg-options k=v ...]``
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print the whole config, bases merged')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings first, e.g. train_cfg.max_epochs=2')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    text = cfg.pretty_text
    print(f'Config: {args.config}\n\n{text}')
    return text


if __name__ == '__main__':
    main()
