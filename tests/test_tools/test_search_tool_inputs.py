"""tools/search.py with inputs it cannot use: each is named before the
model loads (a config that does not exist proves it), or left out with a
warning (a broken file among the gallery images)."""
import shutil
from pathlib import Path

import pytest

from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from tiny_cluster_contrast import load_script

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


@pytest.fixture(scope='module')
def search_tool():
    return load_script(TOOLS / 'search.py', 'reid_search_inputs')


def _run(tool, query, gallery, *extra, config='missing_config.py',
         checkpoint='missing.pth'):
    return tool.main([
        str(query),
        str(gallery), '--config',
        str(config), '--checkpoint',
        str(checkpoint), '--no-progress', '--backend', 'torch', *extra
    ])


@pytest.mark.parametrize('content,found', [
    (b'just some text\n', 'not_image: not a known image format'),
    (b'', 'empty: 0 bytes'),
])
def test_non_image_query_is_named_before_the_model_loads(
        search_tool, tiny_synthetic_root, tmp_path, content, found):
    query = tmp_path / 'query.jpg'
    query.write_bytes(content)
    with pytest.raises(ValueError) as err:
        _run(search_tool, query, tiny_synthetic_root / 'bounding_box_test')
    assert str(err.value) == (
        f'query {query} is not an image this tool can load ({found}); '
        'expected a JPEG, PNG, BMP or other file OpenCV decodes')


def test_folder_as_query_is_named(search_tool, tiny_synthetic_root,
                                  tmp_path):
    with pytest.raises(ValueError, match=f'query {tmp_path} is not an image'
                       r'.*\(not_image: a directory\)'):
        _run(search_tool, tmp_path, tiny_synthetic_root / 'bounding_box_test')


def test_unwritable_picture_is_named_before_the_model_loads(
        search_tool, tiny_synthetic_root, tmp_path):
    (tmp_path / 'file').write_text('')
    out = tmp_path / 'file' / 'matches.png'
    gallery = tiny_synthetic_root / 'bounding_box_test'
    query = sorted(gallery.glob('*.jpg'))[0]
    with pytest.raises(OSError, match=f'cannot write the picture {out}: its '
                       f'folder {out.parent} cannot be made'):
        _run(search_tool, query, gallery, '--out', str(out))


def test_broken_gallery_file_is_left_out_with_a_warning(
        search_tool, tiny_synthetic_root, tmp_path, capsys):
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    for image in sorted(
        (tiny_synthetic_root / 'bounding_box_test').glob('*.jpg'))[:4]:
        shutil.copy(image, gallery)
    (gallery / 'broken.jpg').write_bytes(b'not a picture')
    config = write_tiny_config(tiny_synthetic_root, tmp_path / 'tiny.py')
    checkpoint = save_untrained_checkpoint(config, tmp_path / 'tiny.pth')
    query = sorted(gallery.glob('0*.jpg'))[0]
    matches = _run(search_tool, query, gallery, '--topk', '5', '--out', '',
                   config=config, checkpoint=checkpoint)
    assert len(matches) == 4 and matches[0][0] == str(query)
    printed = capsys.readouterr().out
    assert (f'warning: 1 of 5 gallery files are not images this tool can '
            f'load: {gallery / "broken.jpg"} (not_image: not a known image '
            'format); they are left out') in printed
    only_broken = tmp_path / 'only_broken'
    only_broken.mkdir()
    shutil.copy(gallery / 'broken.jpg', only_broken)
    with pytest.raises(ValueError, match='1 of 1 gallery files are not'):
        _run(search_tool, query, only_broken)
