"""Convert a torchreid OSNet checkpoint to an mmreid_unsup checkpoint.

Usage::

    python tools/model_converters/torchreid2mmreid.py SRC DST [--arch x0_25]

``SRC`` is a torchreid ``osnet_x1_0`` / ``x0_75`` / ``x0_5`` / ``x0_25``
checkpoint: a plain state_dict or a dict holding one under ``'state_dict'``
(as torchreid's ``save_checkpoint`` writes), keys optionally prefixed with
``module.`` (DataParallel), in the zip or the legacy (pre-1.6) serialization.
It is read with ``torch.load(weights_only=True)``, which also reads legacy
files and never runs code from them: a file that holds anything other than
tensors and plain containers is refused.

``classifier.*`` is dropped (its size is the source dataset's number of
identities). The other keys are checked against :class:`OSNet` and
:class:`OSNetFCNeck` and renamed for the model layout of ``BaseReIDModel``:

- ``conv1.*`` ... ``conv5.*`` -> ``backbone.conv1.*`` ...
- ``fc.*`` (torchreid's 512-d embedding) -> ``neck.fc.*``

``DST`` is an MMEngine checkpoint ``{'state_dict': ..., 'meta': {...}}``
(``meta`` records the source file name, its sha256 and the arch), written
atomically and loadable with ``torch.load(weights_only=True)``. Use it as::

    model = dict(
        type='BaseReIDModel',
        backbone=dict(type='OSNet', arch='x0_25'),
        neck=dict(type='OSNetFCNeck', in_channels=128),
        init_cfg=dict(type='Pretrained', checkpoint='DST'))

or for the backbone alone ``backbone=dict(type='OSNet', arch='x0_25',
init_cfg=dict(type='Pretrained', checkpoint='DST', prefix='backbone.'))``.
"""
import argparse
import hashlib
import os
import pickle
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from mmreid_unsup.models import OSNet, OSNetFCNeck
from mmreid_unsup.utils import (UnsafeCheckpointError, atomic_write,
                                safe_torch_load)
from mmreid_unsup.utils.checkpoint_path import directory_checkpoint_error

PathLike = Union[str, os.PathLike]

BACKBONE_PREFIX = 'backbone.'
NECK_PREFIX = 'neck.'
NECK_KEYS = 'fc.'  # torchreid's embedding layer -> OSNetFCNeck
DROPPED_KEYS = 'classifier.'
EMBED_DIM = 512  # torchreid's OSNet feature_dim
# How many offending keys an error message names.
NUM_KEYS_SHOWN = 5


class ConversionError(ValueError):
    """The source is not a torchreid OSNet checkpoint this tool converts."""


def sha256sum(path: PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def load_torchreid_state_dict(
        path: PathLike) -> 'OrderedDict[str, torch.Tensor]':
    """Read a torchreid checkpoint's tensors without unpickling code.

    Args:
        path (str or PathLike): The checkpoint file.

    Returns:
        OrderedDict[str, Tensor]: The state_dict, ``module.`` prefixes
        removed, in file order.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ConversionError: The file is not a safe tensor pickle, or holds no
            state_dict.
    """
    path = Path(path)
    if path.is_dir():
        raise directory_checkpoint_error(str(path))
    if not path.is_file():
        raise FileNotFoundError(f'source checkpoint not found: {path}')
    try:
        checkpoint = safe_torch_load(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        raise ConversionError(f'refused to load: {err}') from err
    except pickle.UnpicklingError as err:
        raise ConversionError(
            f'{path}: not a readable torch checkpoint: {err}') from err
    except (RuntimeError, EOFError, OSError) as err:
        raise ConversionError(
            f'{path}: not a readable torch checkpoint: {err}') from err

    if isinstance(checkpoint, Mapping) and isinstance(
            checkpoint.get('state_dict'), Mapping):
        checkpoint = checkpoint['state_dict']
    if not isinstance(checkpoint, Mapping) or not checkpoint:
        raise ConversionError(
            f'{path}: expected a state_dict or a dict with a "state_dict" '
            f'entry, got {type(checkpoint).__name__}')
    non_tensors = [
        str(k) for k, v in checkpoint.items()
        if not isinstance(v, torch.Tensor)
    ]
    if non_tensors:
        raise ConversionError(
            f'{path}: not a state_dict: entries that are not tensors: '
            f'{_first(non_tensors)}')
    state_dict: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in checkpoint.items():
        if key.startswith('module.'):  # saved from a DataParallel model
            key = key[len('module.'):]
        state_dict[key] = value
    return state_dict


def _first(keys: Sequence[str]) -> str:
    """``'a, b, c'`` for the first few keys, with the total when cut."""
    shown = ', '.join(keys[:NUM_KEYS_SHOWN])
    if len(keys) > NUM_KEYS_SHOWN:
        shown += f' ... ({len(keys)} in all)'
    return shown


def _reference_shapes(arch: str) -> 'OrderedDict[str, torch.Size]':
    """torchreid key -> shape of ``osnet_<arch>`` without the classifier."""
    with torch.device('meta'):  # shapes only: no memory, no init
        backbone = OSNet(arch=arch, init_cfg=None)
        neck = OSNetFCNeck(backbone.out_channels, EMBED_DIM, init_cfg=None)
    shapes: 'OrderedDict[str, torch.Size]' = OrderedDict()
    for key, value in backbone.state_dict().items():
        shapes[key] = value.shape
    for key, value in neck.state_dict().items():
        shapes[key] = value.shape
    return shapes


def infer_arch(state_dict: Mapping[str, torch.Tensor]) -> str:
    """The OSNet width whose stem has as many channels as the checkpoint's.

    Raises:
        ConversionError: No ``conv1.conv.weight`` of a known width.
    """
    stem = state_dict.get('conv1.conv.weight')
    widths = {c[0]: a for a, c in OSNet.arch_settings.items()}
    if stem is None or stem.dim() != 4 or stem.shape[0] not in widths:
        known = _reference_shapes('x0_25')  # same keys at every width
        unexpected = [k for k in state_dict if k not in known]
        detail = (f'; first keys not in OSNet: {_first(unexpected)}'
                  if unexpected else '')
        got = 'missing' if stem is None else tuple(stem.shape)
        raise ConversionError(
            'unrecognised layout: not a torchreid OSNet checkpoint '
            f'(conv1.conv.weight is {got}, expected (C, 3, 7, 7) with C in '
            f'{sorted(widths)}){detail}')
    return widths[stem.shape[0]]


def convert_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    arch: Optional[str] = None
) -> Tuple['OrderedDict[str, torch.Tensor]', str, List[str]]:
    """Check a torchreid OSNet state_dict and rename it for our model.

    Args:
        state_dict (Mapping[str, Tensor]): torchreid keys (no ``module.``).
        arch (str, optional): Expected width (``'x1_0'`` ... ``'x0_25'``).
            Inferred from the stem when None.

    Returns:
        tuple: The converted state_dict (``backbone.*``, ``neck.fc.*``), the
        arch, and the dropped keys.

    Raises:
        ConversionError: ``arch`` is unknown or is not the checkpoint's
            width, or the keys or shapes are not OSNet's.
    """
    if arch is not None and arch not in OSNet.arch_settings:
        raise ConversionError(f'unknown arch {arch!r}, choose from '
                              f'{sorted(OSNet.arch_settings)}')
    kept = OrderedDict((k, v) for k, v in state_dict.items()
                       if not k.startswith(DROPPED_KEYS))
    dropped = [k for k in state_dict if k.startswith(DROPPED_KEYS)]
    found = infer_arch(kept)
    if arch is not None and arch != found:
        wanted, got = OSNet.arch_settings[arch], OSNet.arch_settings[found]
        raise ConversionError(
            f'width mismatch: --arch {arch} expects channels {wanted} but the '
            f'checkpoint is OSNet {found} {got} (conv1 has {got[0]} channels)')

    reference = _reference_shapes(found)
    unexpected = [k for k in kept if k not in reference]
    missing = [k for k in reference if k not in kept]
    if unexpected or missing:
        parts = []
        if unexpected:
            parts.append(f'unexpected keys: {_first(unexpected)}')
        if missing:
            parts.append(f'missing keys: {_first(missing)}')
        raise ConversionError(
            f'unrecognised layout for torchreid osnet_{found}: ' +
            '; '.join(parts))
    wrong = [
        f'{k} {tuple(kept[k].shape)} != {tuple(shape)}'
        for k, shape in reference.items() if kept[k].shape != shape
    ]
    if wrong:
        raise ConversionError(
            f'width mismatch with torchreid osnet_{found} (layers of another '
            f'width, or an embedding that is not {EMBED_DIM}-d): '
            f'{_first(wrong)}')

    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in kept.items():
        prefix = NECK_PREFIX if key.startswith(NECK_KEYS) else BACKBONE_PREFIX
        converted[prefix + key] = value.detach().clone().contiguous()
    return converted, found, dropped


def convert(src: PathLike,
            dst: PathLike,
            arch: Optional[str] = None) -> Dict[str, object]:
    """Convert the torchreid checkpoint ``src`` and write it to ``dst``.

    Args:
        src (str or PathLike): torchreid OSNet checkpoint.
        dst (str or PathLike): Output file (parent folders are created).
        arch (str, optional): Expected width; inferred when None.

    Returns:
        dict: The ``meta`` written into ``dst``.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ConversionError: ``src`` is not a convertible checkpoint.
    """
    src = Path(src)
    source = load_torchreid_state_dict(src)
    state_dict, found, dropped = convert_state_dict(source, arch)
    meta: Dict[str, object] = dict(
        source=src.name,
        source_sha256=sha256sum(src),
        source_format='torchreid',
        arch=found,
        backbone=f'OSNet(arch={found!r})',
        neck=f'OSNetFCNeck(in_channels={OSNet.arch_settings[found][-1]}, '
        f'out_channels={EMBED_DIM})',
        dropped_keys=dropped,
        converter='tools/model_converters/torchreid2mmreid.py')
    checkpoint = {'state_dict': state_dict, 'meta': meta}
    atomic_write(dst, lambda f: torch.save(checkpoint, f))
    return meta


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a torchreid OSNet checkpoint (plain or legacy '
        'serialization) to an mmreid_unsup checkpoint with backbone.* '
        '(OSNet) and neck.fc.* (OSNetFCNeck) keys.')
    parser.add_argument('src', help='torchreid checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--arch',
        choices=sorted(OSNet.arch_settings),
        help='expected OSNet width; an error if the checkpoint is another '
        '(default: inferred from the checkpoint)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.arch)
    except (FileNotFoundError, ConversionError) as err:
        print(f'torchreid2mmreid: error: {err}', file=sys.stderr)
        return 1
    print(f'torchreid2mmreid: {args.src} -> {args.dst}: OSNet {meta["arch"]}'
          f', dropped {meta["dropped_keys"]}, source sha256 '
          f'{meta["source_sha256"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
