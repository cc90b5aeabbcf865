"""``mmreid_unsup.apis.get_model``: a model zoo entry, built and loaded."""
import pytest
import torch

from mmreid_unsup.apis import get_model
from mmreid_unsup.model_zoo import OfflineError, UnknownModelError
from zoo_test_server import TINY_CONFIG, model_entry, sha256_bytes, write_index

NAME = 'tiny-reid_osnet_synthetic'
PATH = '/v1/tiny-reid.pth'


@pytest.fixture
def zoo(zoo_server, zoo_env, tmp_path, monkeypatch, reid_bytes):
    zoo_server.state.files[PATH] = reid_bytes
    index = write_index(tmp_path / 'zoo', [
        model_entry(NAME, zoo_server.url(PATH), sha256_bytes(reid_bytes),
                    config=str(TINY_CONFIG))])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    return zoo_server


def test_get_model_pretrained(zoo, zoo_env):
    model = get_model(NAME)
    assert not model.training and model.zoo_name == NAME
    assert model.cfg.filename == str(TINY_CONFIG)
    expected = torch.load(zoo_env / 'tiny-reid.pth',
                          weights_only=True)['state_dict']
    state = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(state[key], value), key
    with torch.no_grad():
        feats = model(torch.rand(2, 3, 32, 16), mode='tensor')
    assert feats.shape[0] == 2


def test_get_model_without_weights_fetches_nothing(zoo, monkeypatch):
    monkeypatch.setenv('MMREID_OFFLINE', '1')  # would fail if it tried
    model = get_model('zoo://' + NAME, pretrained=False)
    assert model.zoo_name == NAME
    assert zoo.state.requests == []
    with pytest.raises(OfflineError):
        get_model(NAME)


def test_get_model_unknown_name(zoo):
    with pytest.raises(UnknownModelError, match=f"did you mean '{NAME}'"):
        get_model('tiny-reid_osnet')
