"""probe_image / image_fault: what the check finds in one file."""
import pytest
from PIL import Image

from mmreid_unsup.datasets.image_probe import (ImageProbe, image_fault,
                                               probe_image)


@pytest.mark.parametrize('kind,name,problem,detail', [
    ('empty', 'a.jpg', 'empty', '0 bytes'),
    ('not_image', 'a.jpg', 'not_image', 'not a known image format'),
    ('truncated_jpeg', 'a.jpg', 'corrupt', 'no JPEG end marker'),
])
@pytest.mark.parametrize('level', ['header', 'decode'])
def test_unusable_files(tmp_path, write_bad_file, kind, name, problem,
                        detail, level):
    probe = probe_image(str(write_bad_file(tmp_path / name, kind)), level)
    assert probe.problem == problem and probe.convertible is None
    assert detail in probe.detail


def test_missing_and_directory(tmp_path):
    assert probe_image(str(tmp_path / 'nope.jpg')) == ImageProbe(
        'missing', detail='no such file')
    assert probe_image(str(tmp_path)).problem == 'not_image'


def test_truncated_png_needs_no_decode_level(tmp_path, write_bad_file):
    path = write_bad_file(tmp_path / 'a.png', 'rgba')
    path.write_bytes(path.read_bytes()[:-20])  # cut into the IEND chunk
    probe = probe_image(str(path), 'header')
    assert probe.problem == 'corrupt'
    assert 'no PNG end marker' in probe.detail and 'OpenCV' in probe.detail


def test_corrupt_pixel_data_needs_decode_level(tmp_path, write_bad_file):
    path = str(write_bad_file(tmp_path / 'a.png', 'corrupt_png'))
    assert probe_image(path, 'header') == ImageProbe()
    assert probe_image(path, 'decode') == ImageProbe(
        'corrupt', detail='OpenCV cannot decode it')


def test_bytes_after_the_jpeg_end_marker_are_accepted(tmp_path,
                                                      write_bad_file):
    path = write_bad_file(tmp_path / 'a.jpg', 'ok')
    path.write_bytes(path.read_bytes() + b'\0' * 100)
    assert probe_image(str(path), 'decode') == ImageProbe()


@pytest.mark.parametrize('kind,name,convertible,mode', [
    ('grayscale', 'a.jpg', 'grayscale', 'JPEG mode L'),
    ('rgba', 'a.png', 'alpha', 'PNG mode RGBA'),
    ('gray16', 'a.png', 'high_bit_depth', 'PNG mode I;16B'),
    # Pillow opens 16-bit RGB as mode RGB: the raw mode tells.
    ('rgb16', 'a.png', 'high_bit_depth', 'PNG mode RGB;16B'),
])
def test_convertible_files(tmp_path, write_bad_file, kind, name, convertible,
                           mode):
    path = str(write_bad_file(tmp_path / name, kind))
    for level in ('header', 'decode'):
        assert probe_image(path, level) == ImageProbe(
            convertible=convertible, detail=mode)


def test_good_file_and_content_not_extension(tmp_path, write_bad_file):
    # The format is read from the content: a PNG named .jpg is fine.
    assert probe_image(str(write_bad_file(tmp_path / 'a.jpg', 'ok'))) == \
        ImageProbe()
    assert probe_image(str(write_bad_file(tmp_path / 'b.jpg', 'rgba'))) \
        .convertible == 'alpha'


def test_format_opencv_cannot_decode(tmp_path):
    # Pillow reads icons; LoadImageFromFile (OpenCV) cannot.
    path = tmp_path / 'a.jpg'
    Image.new('RGB', (8, 16)).save(path, format='ICO')
    assert probe_image(str(path)) == ImageProbe(
        'not_image',
        detail='ICO image, a format OpenCV (LoadImageFromFile) cannot decode')


def test_image_fault(tmp_path, write_bad_file):
    good = write_bad_file(tmp_path / 'a.jpg', 'grayscale')
    assert image_fault(str(good)) is None
    assert image_fault(str(tmp_path / 'gone.jpg')) == 'missing: no such file'
    corrupt = write_bad_file(tmp_path / 'c.png', 'corrupt_png')
    assert image_fault(str(corrupt)) == 'corrupt: OpenCV cannot decode it'


def test_unknown_level(tmp_path):
    with pytest.raises(ValueError, match="'header' or 'decode', got 'fast'"):
        probe_image(str(tmp_path / 'a.jpg'), 'fast')
