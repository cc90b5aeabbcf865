"""Find a person in a folder of images.

``python tools/search.py QUERY_IMAGE GALLERY_DIR --config CONFIG
--checkpoint CHECKPOINT [--topk 10] [--out matches.png]``

Extracts the features of the query and of every image under GALLERY_DIR
(recursively), prints the closest gallery images and draws them in one
picture (query framed blue, results framed dark grey: there is no ground
truth to judge them by).
"""
import argparse
import os.path as osp
from typing import List, Optional

import cv2

from mmreid_unsup.apis import (extract_features, init_model, list_images,
                               search_gallery)
from mmreid_unsup.datasets.image_probe import image_fault, probe_image
from mmreid_unsup.utils import freeze_gc_at_exit
from mmreid_unsup.utils.writable_output import check_writable_output
from mmreid_unsup.visualization import draw_ranked_list, read_rgb

#: Unusable gallery files named in the warning.
_NUM_LISTED = 5


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Rank the images of a folder by similarity to a query')
    parser.add_argument('query', help='the query image')
    parser.add_argument('gallery', help='the folder of gallery images')
    parser.add_argument('--config', required=True, help='model config')
    parser.add_argument('--checkpoint', required=True, help='checkpoint')
    parser.add_argument(
        '--topk', type=int, default=10, help='matches to show (default 10)')
    parser.add_argument(
        '--out',
        default='search_result.png',
        help='the picture to write (default search_result.png); "" for none')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--flip', action='store_true', help='flip test-time augmentation')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--backend',
        default='auto',
        choices=['auto', 'faiss', 'torch'],
        help='nearest-neighbour search backend')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def check_query(path: str) -> None:
    """Stop before the model loads if the query is not a loadable image.

    Args:
        path (str): The query file.

    Raises:
        FileNotFoundError: If it does not exist.
        ValueError: If OpenCV cannot decode it (not an image, truncated,
            empty, a directory), naming the file and what was found.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'query image not found: {path}')
    fault = image_fault(path)
    if fault is not None:
        raise ValueError(
            f'query {path} is not an image this tool can load ({fault}); '
            'expected a JPEG, PNG, BMP or other file OpenCV decodes')


def usable_gallery(paths: List[str]) -> List[str]:
    """The gallery files whose header is an image, the others named.

    Args:
        paths (list[str]): The image files found in the gallery folder.

    Returns:
        list[str]: The usable ones, in order.

    Raises:
        ValueError: If none is usable.
    """
    kept, bad = [], []
    for path in paths:
        probe = probe_image(path, 'header')
        if probe.problem is None:
            kept.append(path)
        else:
            bad.append(f'{path} ({probe.problem}: {probe.detail})')
    if bad:
        more = (f' and {len(bad) - _NUM_LISTED} more'
                if len(bad) > _NUM_LISTED else '')
        message = (f'{len(bad)} of {len(paths)} gallery files are not '
                   f'images this tool can load: '
                   f'{"; ".join(bad[:_NUM_LISTED])}{more}')
        if not kept:
            raise ValueError(message)
        print(f'warning: {message}; they are left out')
    return kept


def main(argv: Optional[List[str]] = None) -> List[tuple]:
    args = parse_args(argv)
    check_query(args.query)
    if args.out:
        check_writable_output(args.out, 'picture')
    gallery_paths = usable_gallery(list_images(args.gallery))
    model = init_model(args.config, args.checkpoint, device=args.device)
    progress = not args.no_progress
    query_feat = extract_features(
        model, args.query, flip=args.flip, progress=False)
    gallery_feats = extract_features(
        model,
        gallery_paths,
        batch_size=args.batch_size,
        flip=args.flip,
        progress=progress)
    topk = min(args.topk, len(gallery_paths))
    dists, indices = search_gallery(
        query_feat, gallery_feats, topk=topk, backend=args.backend)
    matches = [(gallery_paths[i], float(d))
               for d, i in zip(dists[0].tolist(), indices[0].tolist())]
    print(f'query: {args.query}  ({len(gallery_paths)} gallery images)')
    print(f'{"rank":>4}  {"distance":>8}  image')
    for rank, (path, dist) in enumerate(matches, 1):
        print(f'{rank:>4}  {dist:8.4f}  {path}')
    if args.out:
        canvas = draw_ranked_list(
            read_rgb(args.query), [read_rgb(p) for p, _ in matches],
            ['unknown'] * len(matches),
            [f'{d:.3f}' for _, d in matches])
        if not cv2.imwrite(args.out, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)):
            raise OSError(f'cannot write {args.out}')
        print(f'picture: {args.out}')
    return matches


if __name__ == '__main__':
    freeze_gc_at_exit()
    main()
