"""Build a model from a config and a checkpoint, and describe images."""
import copy
import os
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict

from mmreid_unsup.registry import MODELS, TRANSFORMS
from mmreid_unsup.utils.checkpoint_fit import (check_checkpoint_fit,
                                               checkpoint_state_dict)
from mmreid_unsup.utils.checkpoint_path import directory_checkpoint_error
from mmreid_unsup.utils.progress import progress_bar
from mmreid_unsup.utils.safe_checkpoint import safe_torch_load
from ..models.tta import flip_averaged_features

__all__ = ['init_model', 'extract_features', 'list_images', 'IMAGE_EXTENSIONS']

#: File extensions :func:`list_images` picks up (lower case).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

ImageInput = Union[str, Path, np.ndarray]


def _without_pretrained(cfg: dict) -> dict:
    """A copy of a model config with every ``init_cfg`` removed: the
    checkpoint provides the weights, nothing needs downloading."""
    if isinstance(cfg, dict):
        return {
            k: _without_pretrained(v)
            for k, v in cfg.items() if k != 'init_cfg'
        }
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_without_pretrained(v) for v in cfg)
    return cfg


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a re-ID model for inference.

    Args:
        config (str | Path | Config): the config file or object.
        checkpoint (str, optional): the checkpoint file to load, read with
            :func:`~mmreid_unsup.utils.safe_torch_load` (a file that could
            run code is refused). Without one the model keeps its random
            initialisation (and no pretrained weights are fetched).
        device (str | torch.device): where to put the model. Defaults to
            ``'cpu'``.
        cfg_options (dict, optional): overrides merged into the config.
        strict (bool): refuse a checkpoint whose weights do not fit the
            model (keys missing or unexpected, tensors of another shape;
            data-dependent buffers such as memory banks are resized, not
            refused). False loads what fits and logs the rest as a warning.
            Defaults to True.

    Returns:
        nn.Module: the model in eval mode, with the config as ``model.cfg``.

    Raises:
        FileNotFoundError: if ``config`` or ``checkpoint`` does not exist.
        CheckpointMismatchError: if ``strict`` and the checkpoint does not
            fit (a ``RuntimeError``; the message gives the counts and
            examples of the keys that differ).
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError('config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if 'model' not in config:
        raise KeyError(f'the config {config.filename} has no `model`')
    init_default_scope(config.get('default_scope', 'mmreid_unsup'))
    model = MODELS.build(_without_pretrained(config.model.to_dict()))
    if checkpoint is not None:
        if osp.isdir(checkpoint):
            raise directory_checkpoint_error(checkpoint)
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        loaded = safe_torch_load(checkpoint, map_location='cpu')
        check_checkpoint_fit(
            model,
            loaded,
            source=checkpoint,
            strict=strict,
            allow_hint='pass strict=False to init_model')
        # What does not fit was reported above: MMEngine's warning is noise.
        load_state_dict(
            model, checkpoint_state_dict(loaded), strict=False,
            logger='silent')
    model.cfg = config
    return model.to(device).eval()


def list_images(folder: Union[str, Path]) -> List[str]:
    """The image files under a folder (recursively), sorted.

    Args:
        folder (str | Path): the folder.

    Returns:
        list[str]: paths with an extension in :data:`IMAGE_EXTENSIONS`.

    Raises:
        FileNotFoundError: if the folder does not exist or has no image.
    """
    folder = str(folder)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    paths = sorted(
        osp.join(root, name) for root, _, names in os.walk(folder)
        for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise FileNotFoundError(
            f'no image ({", ".join(IMAGE_EXTENSIONS)}) under {folder}')
    return paths


def _as_image_list(images: Union[ImageInput, Sequence[ImageInput]]) -> list:
    if isinstance(images, (str, Path)):
        return list_images(images) if osp.isdir(images) else [str(images)]
    if isinstance(images, np.ndarray) and images.ndim == 3:
        return [images]
    return [str(i) if isinstance(i, Path) else i for i in images]


def _build_pipeline(model: nn.Module):
    """The test pipeline of ``model.cfg``, with a loader that accepts
    arrays too and a packer that needs no labels."""
    cfg = getattr(model, 'cfg', None)
    try:
        steps = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    except AttributeError:
        raise KeyError('extract_features needs model.cfg with '
                       'test_dataloader.dataset.pipeline (build the model '
                       'with init_model)') from None
    loader, transforms = None, []
    for step in steps:
        step = dict(step)
        if step['type'] in ('LoadImageFromFile', 'mmcv.LoadImageFromFile'):
            loader = TRANSFORMS.build(step)
            continue
        if step['type'] == 'PackReIDInputs':
            step['meta_keys'] = ('img_path', 'sample_idx')
        transforms.append(TRANSFORMS.build(step))

    def run(image: ImageInput, index: int) -> dict:
        if isinstance(image, np.ndarray):
            results = dict(
                img=image,
                img_shape=image.shape[:2],
                ori_shape=image.shape[:2],
                img_path=f'<array {index}>')
        else:
            if not osp.isfile(image):
                raise FileNotFoundError(f'image not found: {image}')
            results = loader(dict(img_path=image)) if loader else None
            if results is None:
                raise ValueError(f'cannot read image {image}')
        results['sample_idx'] = index
        for transform in transforms:
            results = transform(results)
        return results

    return run


@torch.no_grad()
def extract_features(model: nn.Module,
                     images: Union[ImageInput, Sequence[ImageInput]],
                     batch_size: int = 32,
                     flip: bool = False,
                     progress: bool = True) -> torch.Tensor:
    """L2-normalised features of images, in batches.

    Images go through the test pipeline of the model's config (resize,
    then the model's own normalisation), as in evaluation.

    Args:
        model (nn.Module): a model from :func:`init_model`.
        images: an image file, a folder (every image under it, in the order
            of :func:`list_images`), a BGR ``uint8`` array as cv2 reads it,
            or a sequence of files and arrays.
        batch_size (int): images per forward pass. Defaults to 32.
        flip (bool): average each image's feature with its mirror image's
            (flip test-time augmentation). Defaults to False.
        progress (bool): show a progress bar. Defaults to True.

    Returns:
        Tensor: ``(N, D)`` float32 features on the CPU, in input order.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    images = _as_image_list(images)
    if not images:
        raise ValueError('extract_features: no images given')
    init_default_scope(model.cfg.get('default_scope', 'mmreid_unsup'))
    pipeline = _build_pipeline(model)
    was_training = model.training
    model.eval()
    feats = []
    try:
        with progress_bar('extract features', len(images),
                          progress) as report:
            for start in range(0, len(images), batch_size):
                packed = [
                    pipeline(img, start + i)
                    for i, img in enumerate(images[start:start + batch_size])
                ]
                data = model.data_preprocessor(
                    dict(
                        inputs=[p['inputs'] for p in packed],
                        data_samples=[p['data_samples'] for p in packed]),
                    False)
                if flip:
                    batch = flip_averaged_features(model, data['inputs'])
                else:
                    batch = model(data['inputs'], mode='tensor')
                feats.append(batch.float().cpu())
                report(start + len(packed), len(images))
    finally:
        model.train(was_training)
    return torch.cat(feats)
