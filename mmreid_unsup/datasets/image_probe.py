"""Check one image file: can the pipeline load it, and what must it convert?

Two levels, chosen by a dataset's ``image_check``:

- ``'header'`` (cheap): the file exists, is not empty, its header names an
  image format (read with Pillow, which reads only the first bytes) that
  OpenCV can decode (``cv2.haveImageReader``), and a JPEG or PNG ends with
  its end marker (``FFD9``, ``IEND``), so a file cut short by a failed copy
  is caught without decoding it. A file whose end marker is missing is
  decoded once to confirm (some writers append bytes after the marker,
  which decoders accept).
- ``'decode'`` (thorough): the same, then the whole image is decoded with
  OpenCV, the library ``LoadImageFromFile`` decodes with, so corrupt data
  inside the image is caught as well.

Besides unusable files the probe reports *convertible* ones: grayscale,
alpha-channel, 16-bit and other colour modes (palette, CMYK), which
``LoadImageFromFile`` (``color_type='color'``, OpenCV, the default of every
config here) turns into 3-channel 8-bit BGR when it loads them.
"""
import os
from typing import NamedTuple, Optional

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

CHECK_LEVELS = ('none', 'header', 'decode')

_JPEG_END = b'\xff\xd9'
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'
_HIGH_BIT_DEPTH_MODES = ('I', 'F', 'I;16', 'I;16B', 'I;16L', 'I;16N')
_GRAYSCALE_MODES = ('1', 'L')
_ALPHA_MODES = ('LA', 'La', 'PA', 'RGBA', 'RGBa')


class ImageProbe(NamedTuple):
    """What the check of one file found.

    Attributes:
        problem (str, optional): Why the file cannot be used: ``'missing'``,
            ``'unreadable'``, ``'empty'``, ``'not_image'`` or ``'corrupt'``;
            None when it can.
        convertible (str, optional): For a usable file that is not 8-bit
            RGB: ``'high_bit_depth'``, ``'grayscale'``, ``'alpha'`` or
            ``'other_mode'``; None otherwise.
        detail (str): What exactly was found, for the report.
    """

    problem: Optional[str] = None
    convertible: Optional[str] = None
    detail: str = ''


def probe_image(path: str, level: str = 'header') -> ImageProbe:
    """Check one local image file.

    Args:
        path (str): The file.
        level (str): ``'header'`` or ``'decode'`` (see the module
            docstring).

    Returns:
        ImageProbe: The problem or the conversion the file needs, if any.

    Raises:
        ValueError: If ``level`` is not ``'header'`` or ``'decode'``.
    """
    if level not in CHECK_LEVELS[1:]:
        raise ValueError(f"probe_image: level must be 'header' or 'decode', "
                         f'got {level!r}')
    try:
        size = os.stat(path).st_size
        if os.path.isdir(path):
            return ImageProbe('not_image', detail='a directory')
        if size == 0:
            return ImageProbe('empty', detail='0 bytes')
        with open(path, 'rb') as f:
            return _probe_open_file(f, size, level)
    except FileNotFoundError:
        return ImageProbe('missing', detail='no such file')
    except OSError as err:  # permissions, I/O errors
        return ImageProbe('unreadable', detail=_describe(err))


def image_fault(path: str) -> Optional[str]:
    """Why a file cannot be loaded now, if it cannot (a thorough check).

    Used when loading failed in the middle of an epoch, to tell a broken file
    from a bug in a transform.

    Args:
        path (str): The file.

    Returns:
        str, optional: ``'<kind>: <detail>'``, or None if the file decodes.
    """
    probe = probe_image(path, 'decode')
    if probe.problem is None:
        return None
    return f'{probe.problem}: {probe.detail}' if probe.detail \
        else probe.problem


def _probe_open_file(f, size: int, level: str) -> ImageProbe:
    try:
        img = Image.open(f)
    except UnidentifiedImageError:
        return ImageProbe('not_image', detail='not a known image format')
    except Exception as err:  # Pillow raises many types on bad headers
        return ImageProbe('corrupt', detail=f'bad header ({_describe(err)})')
    fmt = img.format
    if not cv2.haveImageReader(f.name):
        return ImageProbe(
            'not_image',
            detail=f'{fmt} image, a format OpenCV (LoadImageFromFile) '
            'cannot decode')
    end = {'JPEG': _JPEG_END, 'PNG': _PNG_END}.get(fmt)
    if end is not None:
        f.seek(max(0, size - len(end)))
        if f.read() != end:
            failure = _decode_failure(f, img)
            if failure:
                return ImageProbe(
                    'corrupt',
                    detail=f'truncated: no {fmt} end marker, and decoding '
                    f'fails ({failure})')
    if level == 'decode':
        f.seek(0)
        failure = _cv2_failure(f.read(), img.size)
        if failure:
            return ImageProbe('corrupt', detail=failure)
    convertible = _convertible(img)
    if convertible:
        return ImageProbe(
            convertible=convertible, detail=f'{fmt} mode {_raw_mode(img)}')
    return ImageProbe()


def _decode_failure(f, img: Image.Image) -> str:
    """Decode with Pillow and OpenCV: the first failure, or ''."""
    try:
        img.load()
    except Exception as err:
        return f'Pillow: {_describe(err)}'
    f.seek(0)
    return _cv2_failure(f.read(), img.size)


def _cv2_failure(data: bytes, size) -> str:
    """Decode as ``LoadImageFromFile`` does: the failure, or ''."""
    try:
        decoded = cv2.imdecode(
            np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as err:
        return f'OpenCV: {_describe(err)}'
    if decoded is None:
        return 'OpenCV cannot decode it'
    if (decoded.shape[1], decoded.shape[0]) != tuple(size):
        return (f'OpenCV decodes {decoded.shape[1]}x{decoded.shape[0]}, the '
                f'header says {size[0]}x{size[1]}')
    return ''


def _raw_mode(img: Image.Image) -> str:
    """The mode as stored: Pillow opens 16-bit RGB PNGs as ``'RGB'`` and
    keeps ``'RGB;16B'`` in its tile descriptor."""
    for tile in img.tile or ():
        args = tile[3] if len(tile) > 3 else None
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str) and ';16' in raw:
            return raw
    return img.mode


def _convertible(img: Image.Image) -> Optional[str]:
    mode = img.mode
    if mode in _HIGH_BIT_DEPTH_MODES or ';16' in _raw_mode(img):
        return 'high_bit_depth'
    if mode in _GRAYSCALE_MODES:
        return 'grayscale'
    if mode in _ALPHA_MODES or (mode == 'P'
                                and 'transparency' in img.info):
        return 'alpha'
    if mode != 'RGB':
        return 'other_mode'
    return None


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[-1]}' if text \
        else type(err).__name__
