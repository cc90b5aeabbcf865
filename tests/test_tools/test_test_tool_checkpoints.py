"""tools/test.py: a checkpoint that does not fit the config stops the run
(--allow-partial-load on purpose)."""
import pytest
import torch

from mmreid_unsup.utils.checkpoint_fit import CheckpointMismatchError
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from test_inference_tools import load_tool
from tiny_cluster_contrast import TINY_R18_CONFIG


@pytest.fixture(scope='module')
def files(tiny_synthetic_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('tool_fit')
    config = write_tiny_config(tiny_synthetic_root, folder / 'r18.py',
                               base=TINY_R18_CONFIG)
    osnet = write_tiny_config(tiny_synthetic_root, folder / 'osnet.py')
    resnet = save_untrained_checkpoint(config, folder / 'r18.pth')
    return config, osnet, resnet


@pytest.fixture(scope='module')
def tool():
    return load_tool('test.py', 'reid_test_tool_fit')


def test_empty_state_dict_is_refused(files, tool, tmp_path):
    config, _, _ = files
    empty = tmp_path / 'empty.pth'
    torch.save(dict(state_dict={}, meta={}), empty)
    with pytest.raises(CheckpointMismatchError,
                       match=f'checkpoint {empty} does not fit the model: 0 '
                       'of the 128 tensors.*105 missing'):
        tool.main([str(config), str(empty), '--work-dir', str(tmp_path)])


def test_resnet_into_osnet_is_refused_unless_allowed(files, tool, tmp_path):
    _, osnet, resnet = files
    with pytest.raises(CheckpointMismatchError) as excinfo:
        tool.main([str(osnet), str(resnet), '--work-dir', str(tmp_path)])
    message = str(excinfo.value)
    assert '120 unexpected (e.g. backbone.conv1.weight' in message
    assert '--allow-partial-load' in message
    metrics = tool.main([
        str(osnet),
        str(resnet), '--work-dir',
        str(tmp_path), '--allow-partial-load'
    ])
    assert 'reid/mAP' in metrics
