"""tools/model_converters/publish_model.py: a training checkpoint becomes a
release without resume state and data-dependent buffers."""
import hashlib

import pytest
import torch

from mmreid_unsup.utils import safe_torch_load
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from tiny_cluster_contrast import REPO_ROOT, load_script


def tool():
    return load_script(
        REPO_ROOT / 'tools' / 'model_converters' / 'publish_model.py',
        'publish_model_tool')


@pytest.fixture
def trained(tiny_synthetic_root, tmp_path):
    """A checkpoint as training writes it: banks sized by the data, the
    optimizer and the message hub."""
    config = write_tiny_config(tiny_synthetic_root, tmp_path / 'tiny.py')
    plain = safe_torch_load(
        save_untrained_checkpoint(config, tmp_path / 'plain.pth'))
    state = dict(plain['state_dict'])
    bank_key = next(k for k in state if k.endswith('memory.bank'))
    state[bank_key] = torch.randn(7, state[bank_key].shape[-1])
    state['pseudo_labels'] = torch.arange(20)
    path = tmp_path / 'epoch_3.pth'
    torch.save(
        dict(state_dict=state, optimizer=dict(state={}, param_groups=[]),
             message_hub=dict(log_scalars={}),
             meta=dict(epoch=3, iter=30, seed=5, experiment_name='x')),
        path)
    return config, path, state, bank_key


def test_a_release_keeps_the_weights_only(trained, tmp_path, capsys):
    config, path, state, bank_key = trained
    out = tmp_path / 'release.pth'
    info = tool().main([str(config), str(path), str(out)])
    release = safe_torch_load(out)
    assert set(release) == {'state_dict', 'meta'}
    assert bank_key not in release['state_dict']
    assert 'pseudo_labels' not in release['state_dict']
    assert set(info['dropped']) == {bank_key, 'pseudo_labels'}
    for key, value in release['state_dict'].items():
        assert torch.equal(value, state[key])
    meta = release['meta']
    assert (meta['epoch'], meta['iter'], meta['seed']) == (3, 30, 5)
    assert meta['source'] == 'epoch_3.pth'
    assert meta['source_sha256'] == hashlib.sha256(
        path.read_bytes()).hexdigest()
    assert meta['config_file'] == str(config)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert info['sha256'] == digest
    assert f'SHA256: {digest}' in capsys.readouterr().out


def test_refuses_to_overwrite_or_to_publish_a_misfit(trained, tmp_path):
    config, path, state, bank_key = trained
    out = tmp_path / 'release.pth'
    out.write_bytes(b'an earlier release')
    with pytest.raises(SystemExit, match='never overwritten'):
        tool().main([str(config), str(path), str(out)])
    assert out.read_bytes() == b'an earlier release'
    weight = next(k for k in state if k.endswith('weight'))
    state[weight] = torch.zeros(3)
    torch.save(dict(state_dict=state), path)
    with pytest.raises(SystemExit, match=weight.replace('.', r'\.')):
        tool().main([str(config), str(path), str(tmp_path / 'misfit.pth')])
