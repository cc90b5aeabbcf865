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
