"""init_model refuses a checkpoint whose weights do not fit the model,
naming the counts and keys; strict=False loads what fits."""
import pytest
import torch

from mmreid_unsup.apis import init_model
from mmreid_unsup.utils.checkpoint_fit import CheckpointMismatchError
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from tiny_cluster_contrast import TINY_R18_CONFIG


@pytest.fixture(scope='module')
def files(tiny_synthetic_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('fit')
    config = write_tiny_config(tiny_synthetic_root, folder / 'r18.py',
                               base=TINY_R18_CONFIG)
    osnet = write_tiny_config(tiny_synthetic_root, folder / 'osnet.py')
    resnet = save_untrained_checkpoint(config, folder / 'r18.pth')
    empty = folder / 'empty.pth'
    torch.save(dict(state_dict={}, meta={}), empty)
    return config, osnet, resnet, empty


def test_resnet_checkpoint_into_an_osnet_config(files):
    _, osnet, resnet, _ = files
    with pytest.raises(CheckpointMismatchError) as excinfo:
        init_model(str(osnet), str(resnet))
    message = str(excinfo.value)
    assert f'checkpoint {resnet} does not fit the model' in message
    assert 'missing (e.g. backbone.conv1.conv.weight' in message
    assert 'unexpected (e.g. backbone.conv1.weight' in message
    assert ('4 of another shape (e.g. neck.bn.weight: checkpoint [512] vs '
            'model [128]') in message
    assert message.endswith('pass strict=False to init_model.')


def test_empty_state_dict(files):
    config, _, _, empty = files
    with pytest.raises(RuntimeError, match=r'0 of the 128 tensors .* 105 '
                       r'missing'):
        init_model(str(config), str(empty))


def test_partial_load_on_purpose(files):
    _, osnet, resnet, _ = files
    model = init_model(str(osnet), str(resnet), strict=False)
    assert type(model.backbone).__name__ == 'OSNet' and not model.training
