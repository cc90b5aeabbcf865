"""Make a training checkpoint a model-zoo release.

Usage::

    python tools/model_converters/publish_model.py CONFIG CHECKPOINT OUT

A checkpoint written during training holds what only resuming needs: the
optimizer state, the message hub, hook states, and the model's
data-dependent buffers (memory banks, pseudo labels, proxies: rebuilt at
the first refresh of any later run, and for an instance memory the largest
part of the file). ``OUT`` keeps the model's weights without those buffers
(the ``resizable_buffers`` of the model built from ``CONFIG``, which
``CheckpointFitHook`` lets a load leave out) and a ``meta`` that says where
they come from: the source file's name and sha256, its epoch, iteration,
seed and experiment name, and the config file (its name only: a config's
text in ``meta['config']`` is what ``Runner.resume`` would run, and this
toolbox's loader drops it). It is written atomically,
read back with ``torch.load(weights_only=True)`` and checked to fit the
model; its size and sha256 are printed, for the metafile's ``SHA256``.
"""
import argparse
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch

from mmreid_unsup.apis import init_model
from mmreid_unsup.model_zoo import sha256_file
from mmreid_unsup.utils import atomic_write, safe_torch_load
from mmreid_unsup.utils.checkpoint_fit import (CheckpointMismatchError,
                                               check_checkpoint_fit,
                                               is_resizable_buffer)


def publish(config: str, src: str, dst: str) -> Dict:
    """Write the release of ``src`` to ``dst``.

    Args:
        config (str): The config the checkpoint was trained with.
        src (str): The training checkpoint.
        dst (str): The release file (must not exist yet).

    Returns:
        dict: ``sha256``, ``size_bytes``, ``kept`` and ``dropped`` (keys).

    Raises:
        FileExistsError: ``dst`` exists.
        CheckpointMismatchError: The checkpoint does not fit the model.
    """
    if os.path.exists(dst):
        raise FileExistsError(f'{dst} exists; a release is never overwritten')
    model = init_model(config)  # built only: no weights read
    checkpoint = safe_torch_load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    kept = {
        k: v
        for k, v in state_dict.items() if not is_resizable_buffer(model, k)
    }
    dropped = sorted(set(state_dict) - set(kept))
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    release = dict(
        state_dict=kept,
        meta=dict(
            source=Path(src).name,
            source_sha256=sha256_file(src),
            epoch=meta.get('epoch'),
            iter=meta.get('iter'),
            seed=meta.get('seed'),
            experiment_name=meta.get('experiment_name'),
            config_file=str(config)))
    atomic_write(dst, lambda f: torch.save(release, f))
    check_checkpoint_fit(
        model, safe_torch_load(dst, map_location='cpu'), source=dst)
    return dict(
        sha256=sha256_file(dst),
        size_bytes=os.path.getsize(dst),
        kept=sorted(kept),
        dropped=dropped)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Strip a training checkpoint into a model-zoo release.')
    parser.add_argument('config', help='the config it was trained with')
    parser.add_argument('checkpoint', help='the training checkpoint')
    parser.add_argument('out', help='the release file to write')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    try:
        info = publish(args.config, args.checkpoint, args.out)
    except (OSError, ValueError, CheckpointMismatchError) as err:
        sys.exit(f'publish_model.py: {err}')
    print(f'{args.out}: {info["size_bytes"] / 2**20:.2f} MB, '
          f'{len(info["kept"])} tensors kept, {len(info["dropped"])} '
          f'data-dependent buffers dropped\nSHA256: {info["sha256"]}')
    return info


if __name__ == '__main__':
    main()
