"""Sort the crops listed in a CSV into one folder per camera.

``CameraFolderDataset`` reads unlabeled crops laid out as
``OUT/<camera>/...``. This script makes that layout from a CSV with the
columns ``filename`` and ``camid`` (``ReIDAnnotationDataset``'s files; a
``pid`` column is ignored, so no identity reaches the folders): each image
is linked (or copied, ``--copy``) to ``OUT/cam_<camid>/<file name>``.

Try the fine-tuning story with no crops of your own: the CUHK03 training
crops stand in for them (``make data`` links them to ``data/cuhk03``)::

    python tools/misc/camera_folders.py data/cuhk03 \\
        splits/dev_train.csv data/my_cameras
"""
import argparse
import csv
import os
import os.path as osp
import shutil
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Link the crops of a CSV into one folder per camera.')
    parser.add_argument('data_root', help='the folder filenames start from')
    parser.add_argument('csv', help='the CSV, relative to data_root or not')
    parser.add_argument('out', help='the folder to make the camera folders in')
    parser.add_argument(
        '--copy', action='store_true', help='copy instead of symlinking')
    return parser.parse_args(argv)


def camera_folders(data_root: str,
                   csv_file: str,
                   out: str,
                   copy: bool = False) -> dict:
    """Put every image of ``csv_file`` into ``out/cam_<camid>/``.

    Args:
        data_root (str): The folder the CSV's filenames are relative to.
        csv_file (str): The CSV (``filename`` and ``camid`` columns).
        out (str): Where the camera folders go; it must not exist yet.
        copy (bool): Copy the files instead of symlinking them.

    Returns:
        dict: The number of images per camera folder.

    Raises:
        FileExistsError: ``out`` exists (nothing is overwritten).
        ValueError: A column is missing, or two images of one camera have
            the same file name.
        FileNotFoundError: A listed image does not exist.
    """
    path = csv_file if osp.isfile(csv_file) else osp.join(data_root, csv_file)
    if osp.exists(out):
        raise FileExistsError(f'{out} exists; give a new folder')
    with open(path, newline='', encoding='utf-8-sig') as f:
        rows = list(csv.DictReader(f))
    missing = {'filename', 'camid'} - set(rows[0] if rows else ())
    if missing:
        raise ValueError(f'{path}: no column {sorted(missing)}; expected a '
                         'header with filename and camid')
    targets, counts = {}, {}
    for line, row in enumerate(rows, start=2):
        source = osp.join(data_root, row['filename'])
        if not osp.isfile(source):
            raise FileNotFoundError(f'{path}, line {line}: {source} does not '
                                    'exist')
        folder = f'cam_{row["camid"].strip()}'
        target = osp.join(out, folder, osp.basename(source))
        if target in targets:
            raise ValueError(f'{path}, line {line}: {source} and '
                             f'{targets[target]} both become {target}')
        targets[target] = source
        counts[folder] = counts.get(folder, 0) + 1
    for target, source in targets.items():
        os.makedirs(osp.dirname(target), exist_ok=True)
        if copy:
            shutil.copy2(source, target)
        else:
            os.symlink(osp.abspath(source), target)
    return dict(sorted(counts.items()))


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        counts = camera_folders(args.data_root, args.csv, args.out,
                                args.copy)
    except (OSError, ValueError) as err:
        sys.exit(f'camera_folders.py: {err}')
    print(f'{sum(counts.values())} images in {len(counts)} camera folders '
          f'under {args.out}: ' +
          ', '.join(f'{k} {v}' for k, v in counts.items()))
    return counts


if __name__ == '__main__':
    main()
