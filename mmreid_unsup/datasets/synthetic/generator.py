"""Write a synthetic multi-camera re-ID set in Market-1501's layout."""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, NamedTuple, Tuple

import cv2
import numpy as np

from mmreid_unsup.utils.progress import progress_bar
from .background import make_background
from .camera import BACKGROUNDS, sample_camera
from .identity import sample_identity
from .renderer import PedestrianRenderer

GENERATOR_VERSION = '1.1'
#: A camera's scene is this many image widths wide; each image shows a
#: random part of it, so the background varies within a camera.
SCENE_WIDTH = 4
META_FILE = 'meta.json'
SPLIT_DIRS = dict(
    train='bounding_box_train', query='query', gallery='bounding_box_test')

# Streams of the seed tree: every identity, camera and image has its own
# generator, so an image does not depend on the order of generation.
_PLAN, _IDENTITY, _CAMERA, _IMAGE = range(4)


class _Shot(NamedTuple):
    """One image to render: who, where, which take and where it goes."""
    pid: int
    cam: int
    take: int
    split: str
    name: str


def _plan(num_train_ids: int, num_test_ids: int, num_cams: int,
          images_per_id_per_cam: int, seed: int) -> List[_Shot]:
    """Decide every image: ids, cameras, splits and Market-1501 names.

    Each identity walks past 2 to ``num_cams`` cameras. Test identities give
    their first image in each camera to the query set, the rest to the
    gallery, as Market-1501 does.
    """
    rng = np.random.default_rng([seed, _PLAN])
    frames = [0] * num_cams
    shots = []
    for pid in range(1, num_train_ids + num_test_ids + 1):
        is_test = pid > num_train_ids
        num_seen = int(rng.integers(2, num_cams + 1))
        for cam in sorted(rng.choice(num_cams, num_seen, replace=False)):
            for take in range(images_per_id_per_cam):
                frames[cam] += 1
                split = ('train' if not is_test else
                         'query' if take == 0 else 'gallery')
                name = f'{pid:04d}_c{cam + 1}s1_{frames[cam]:06d}_00.jpg'
                shots.append(_Shot(pid, int(cam), take, split, name))
    return shots


def _counts(shots: List[_Shot], num_train_ids: int, num_test_ids: int,
            num_cams: int) -> Dict[str, int]:
    return dict(
        num_train=sum(s.split == 'train' for s in shots),
        num_query=sum(s.split == 'query' for s in shots),
        num_gallery=sum(s.split == 'gallery' for s in shots),
        num_train_ids=num_train_ids,
        num_test_ids=num_test_ids,
        num_cams=num_cams)


def _read_meta(out_dir: str) -> dict:
    try:
        with open(osp.join(out_dir, META_FILE)) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return {}
    return meta if meta.get('generator') == __name__ else {}


def _is_complete(out_dir: str, params: dict) -> bool:
    """Whether ``out_dir`` holds a finished set made with ``params``."""
    meta = _read_meta(out_dir)
    if not (meta.get('complete') and meta.get('params') == params
            and meta.get('generator_version') == GENERATOR_VERSION):
        return False
    for split, folder in SPLIT_DIRS.items():
        folder = osp.join(out_dir, folder)
        found = (sum(n.endswith('.jpg') for n in os.listdir(folder))
                 if osp.isdir(folder) else -1)
        if found != meta['counts'][f'num_{split}']:
            return False
    return True


def _write_meta(out_dir: str, params: dict, counts: Dict[str, int],
                complete: bool) -> None:
    meta = dict(
        generator=__name__,
        generator_version=GENERATOR_VERSION,
        params=params,
        counts=counts,
        complete=complete)
    with open(osp.join(out_dir, META_FILE), 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write('\n')


def _clear(out_dir: str, overwrite: bool) -> None:
    """Remove a previous set; refuse to touch folders we did not write."""
    existing = [
        d for d in SPLIT_DIRS.values() if osp.exists(osp.join(out_dir, d))
    ]
    if existing and not _read_meta(out_dir) and not overwrite:
        raise FileExistsError(
            f'{out_dir} already holds {existing} without the generator\'s '
            f'{META_FILE}; it may be a real dataset. Choose another folder or '
            'pass overwrite=True (--overwrite) to replace them.')
    for folder in existing:
        shutil.rmtree(osp.join(out_dir, folder))


def generate_synthetic_reid(out_dir: str,
                            num_train_ids: int = 100,
                            num_test_ids: int = 50,
                            num_cams: int = 4,
                            images_per_id_per_cam: int = 6,
                            seed: int = 0,
                            img_size: Tuple[int, int] = (128, 64),
                            progress: bool = True,
                            overwrite: bool = False) -> Dict[str, int]:
    """Generate a synthetic multi-camera pedestrian re-ID dataset.

    Identities (clothes, patterns, body, hair, accessories) and cameras
    (scene, light, colour cast, viewpoints, framing, blur, occluders, noise)
    are independent random factors. Cameras differ strongly, so raw pixels
    group images by camera rather than by identity, the problem
    unsupervised re-ID must overcome, while a small CNN can still learn the
    identities.

    The set is written in Market-1501's layout (``bounding_box_train/``,
    ``query/``, ``bounding_box_test/``, names like
    ``0001_c1s1_000001_00.jpg``) with a ``meta.json``; :class:`Market1501`
    and :class:`SyntheticReID` read it. Train identities are ``1..T``, test
    identities ``T+1..T+Q``; each identity appears in 2 to ``num_cams``
    cameras with ``images_per_id_per_cam`` images in each; each test
    identity has one query per camera and the rest in the gallery.

    All randomness comes from ``numpy`` generators seeded by ``seed``: the
    same seed gives byte-identical files (with the same numpy and OpenCV).
    If ``out_dir`` already holds a complete set with the same parameters,
    nothing is written.

    Args:
        out_dir (str): The output folder.
        num_train_ids (int): Training identities. Defaults to 100.
        num_test_ids (int): Test identities. Defaults to 50.
        num_cams (int): Cameras, at least 2. Defaults to 4.
        images_per_id_per_cam (int): Images of an identity in each camera
            it passes, at least 2 (a query and a gallery image).
            Defaults to 6.
        seed (int): The random seed. Defaults to 0.
        img_size (tuple[int, int]): Image ``(h, w)``. Defaults to (128, 64).
        progress (bool): Show a progress bar. Defaults to True.
        overwrite (bool): Replace split folders found in ``out_dir`` that
            the generator did not write. Defaults to False.

    Returns:
        dict: ``num_train``, ``num_query``, ``num_gallery`` (images),
        ``num_train_ids``, ``num_test_ids``, ``num_cams``.
    """
    if num_cams < 2:
        raise ValueError(f'num_cams must be >= 2, got {num_cams}')
    if images_per_id_per_cam < 2:
        raise ValueError('images_per_id_per_cam must be >= 2 (a query and a '
                         f'gallery image), got {images_per_id_per_cam}')
    if num_train_ids < 1 or num_test_ids < 1:
        raise ValueError('num_train_ids and num_test_ids must be >= 1, got '
                         f'{num_train_ids} and {num_test_ids}')
    height, width = (int(s) for s in img_size)
    params = dict(
        num_train_ids=num_train_ids,
        num_test_ids=num_test_ids,
        num_cams=num_cams,
        images_per_id_per_cam=images_per_id_per_cam,
        seed=seed,
        img_size=[height, width])
    shots = _plan(num_train_ids, num_test_ids, num_cams,
                  images_per_id_per_cam, seed)
    counts = _counts(shots, num_train_ids, num_test_ids, num_cams)
    if _is_complete(out_dir, params):
        return counts

    os.makedirs(out_dir, exist_ok=True)
    _clear(out_dir, overwrite)
    _write_meta(out_dir, params, counts, complete=False)
    for folder in SPLIT_DIRS.values():
        os.makedirs(osp.join(out_dir, folder))

    renderer = PedestrianRenderer((height, width))
    margin = renderer.margin
    kinds = np.random.default_rng([seed, _CAMERA]).permutation(BACKGROUNDS)
    cameras = [
        sample_camera(
            np.random.default_rng([seed, _CAMERA, c]), c, num_cams,
            str(kinds[c % len(kinds)])) for c in range(num_cams)
    ]
    backgrounds = [
        make_background(c, height + 2 * margin, SCENE_WIDTH * width)
        for c in cameras
    ]
    identities = {}
    with progress_bar('synthetic re-ID', len(shots), progress) as report:
        for done, shot in enumerate(shots, 1):
            if shot.pid not in identities:
                identities[shot.pid] = sample_identity(
                    np.random.default_rng([seed, _IDENTITY, shot.pid]))
            rng = np.random.default_rng([seed, _IMAGE, shot.pid, shot.cam,
                                         shot.take])
            img = renderer.render(identities[shot.pid], cameras[shot.cam],
                                  backgrounds[shot.cam], rng)
            path = osp.join(out_dir, SPLIT_DIRS[shot.split], shot.name)
            if not cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f'could not write {path}')
            report(done, len(shots))
    _write_meta(out_dir, params, counts, complete=True)
    return counts
