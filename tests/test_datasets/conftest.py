"""Fixtures shared by the dataset tests: tiny fake dataset trees."""
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np
import pytest


@pytest.fixture
def write_images() -> Callable[[Path, Iterable[str]], Path]:
    """Return ``write(folder, names)``, which writes tiny images."""

    def write(folder: Path, names: Iterable[str]) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        img = np.full((16, 8, 3), 127, dtype=np.uint8)
        for name in names:
            assert cv2.imwrite(str(folder / name), img)
        return folder

    return write


@pytest.fixture
def market_root(tmp_path: Path, write_images) -> Path:
    """A Market-1501 tree: 2 train ids, 2 test ids, a junk and a distractor
    image in the gallery, and a stray ``Thumbs.db``."""
    root = tmp_path / 'market'
    write_images(root / 'bounding_box_train', [
        '0002_c1s1_000451_03.jpg', '0002_c2s1_000301_01.jpg',
        '0007_c3s3_015120_01.jpg', '0007_c6s4_002452_02.jpg'
    ])
    write_images(root / 'query',
                 ['0001_c1s1_001051_00.jpg', '0003_c2s1_000551_00.jpg'])
    write_images(root / 'bounding_box_test', [
        '0001_c5s1_000401_01.jpg', '0003_c4s2_000711_02.jpg',
        '0000_c1s1_000001_01.jpg', '-1_c1s1_000401_03.jpg'
    ])
    (root / 'bounding_box_test' / 'Thumbs.db').write_bytes(b'junk')
    return root


def _encoded(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _noise(shape, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    high = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(
        0, high, shape, dtype=dtype, endpoint=True)


def _corrupt_png_data() -> bytes:
    """A PNG with intact header and end marker whose pixel data is garbled:
    only a full decode finds it."""
    data = bytearray(_encoded(_noise((32, 16, 3)), '.png'))
    start = data.index(b'IDAT') + 10
    for i in range(start, start + 30):
        data[i] ^= 0xFF
    return bytes(data)


# What each kind of bad (or convertible) file holds, whatever its name says.
BAD_FILE_CONTENTS = dict(
    ok=lambda: _encoded(_noise((16, 8, 3)), '.jpg'),
    truncated_jpeg=lambda: _encoded(_noise((64, 32, 3)), '.jpg')[:2100],
    empty=lambda: b'',
    not_image=lambda: b'filename,pid,camid\nthis is not an image\n',
    corrupt_png=_corrupt_png_data,
    grayscale=lambda: _encoded(_noise((16, 8)), '.jpg'),
    rgba=lambda: _encoded(_noise((16, 8, 4)), '.png'),
    gray16=lambda: _encoded(_noise((16, 8), np.uint16), '.png'),
    rgb16=lambda: _encoded(_noise((16, 8, 3), np.uint16), '.png'),
)


@pytest.fixture
def write_bad_file() -> Callable[[Path, str], Path]:
    """Return ``write(path, kind)``, which writes a file of one of the kinds
    of :data:`BAD_FILE_CONTENTS` (``'truncated_jpeg'``, ``'gray16'``...)."""

    def write(path: Path, kind: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(BAD_FILE_CONTENTS[kind]())
        return path

    return write
