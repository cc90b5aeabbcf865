"""tools/test.py CONFIG zoo://NAME: resolved through the model zoo as
load_from='zoo://NAME' is; an unknown NAME is refused with the close names."""
import pytest

from mmreid_unsup.model_zoo import UnknownModelError
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from test_inference_tools import load_tool
from zoo_test_server import model_entry, sha256_bytes, write_index


@pytest.fixture(scope='module')
def files(tiny_synthetic_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('tool_zoo')
    config = write_tiny_config(tiny_synthetic_root, folder / 'tiny.py')
    return config, save_untrained_checkpoint(config, folder / 'tiny.pth')


def test_zoo_name(files, tmp_path, monkeypatch):
    tool = load_tool('test.py', 'reid_test_tool_zoo')
    config, checkpoint = files
    data = checkpoint.read_bytes()
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'tiny-reid.pth').write_bytes(data)  # cached: no download
    index = write_index(tmp_path / 'zoo', [
        model_entry('tiny-reid_osnet_synthetic',
                    'https://example.invalid/v1/tiny-reid.pth',
                    sha256_bytes(data), config=str(config))
    ])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    monkeypatch.setenv('MMREID_CACHE_DIR', str(cache))
    monkeypatch.setenv('MMREID_OFFLINE', '1')
    with pytest.raises(UnknownModelError,
                       match="name 'tiny-reid_osnet' in .*did you mean "
                       "'tiny-reid_osnet_synthetic'"):
        tool.main([str(config), 'zoo://tiny-reid_osnet'])
    metrics = tool.main([
        str(config), 'zoo://tiny-reid_osnet_synthetic', '--work-dir',
        str(tmp_path / 'work')
    ])
    expected = tool.main(
        [str(config), str(checkpoint), '--work-dir',
         str(tmp_path / 'work')])
    assert metrics == expected
