"""Command line of the synthetic generator.

``mmreid-synthetic --out data/synthetic_reid`` or
``python -m mmreid_unsup.datasets.synthetic --out data/synthetic_reid``.
"""
import argparse
from typing import List, Optional

from .generator import generate_synthetic_reid


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): The arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: The options.
    """
    parser = argparse.ArgumentParser(
        prog='mmreid-synthetic',
        description='Generate a synthetic multi-camera person re-ID set in '
        'Market-1501 layout.')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-train-ids', type=int, default=100)
    parser.add_argument('--num-test-ids', type=int, default=50)
    parser.add_argument('--num-cams', type=int, default=4)
    parser.add_argument('--images-per-id-per-cam', type=int, default=6)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=(128, 64),
        metavar=('H', 'W'),
        help='image height and width')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace split folders the generator did not write')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Generate the set and print its counts.

    Args:
        argv (list[str], optional): The arguments; ``sys.argv[1:]`` if None.
    """
    args = parse_args(argv)
    counts = generate_synthetic_reid(
        args.out,
        num_train_ids=args.num_train_ids,
        num_test_ids=args.num_test_ids,
        num_cams=args.num_cams,
        images_per_id_per_cam=args.images_per_id_per_cam,
        seed=args.seed,
        img_size=tuple(args.img_size),
        progress=not args.no_progress,
        overwrite=args.overwrite)
    print(f'{args.out}: ' + ', '.join(f'{k}={v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
