"""SCL trained by ``tools/train.py`` on two gloo ranks (as
``tools/dist_train.sh CONFIG 2`` runs it on CPU): both keep identical
memories."""
import pytest
import torch

from gloo_ranks import train_on_gloo_ranks
from rank_probe import read_rank_probes, write_rank_probe
from tiny_scl import write_tiny_scl_config

pytestmark = pytest.mark.dist


def test_dist_train_scl_two_gloo_processes(tiny_synthetic_root, tmp_path):
    probe = write_rank_probe(tmp_path)
    config = write_tiny_scl_config(
        tiny_synthetic_root, tmp_path / 'ddp_scl_cfg.py', f'''
        train_cfg = dict(max_epochs=1, val_interval=1)
        model = dict(head=dict(selector=dict(warmup_epochs=0)))
        custom_imports = dict(imports=['{probe}'])
        custom_hooks = [
            dict(type='InstanceMemoryHook', progress=False),
            dict(type='MemoryMomentumHook'),
            dict(type='RankProbeHook', out_dir='{tmp_path}',
                 tensors=dict(g='head.global_memory.bank',
                              l='head.local_memory.bank',
                              m='head.mixture_memory.bank',
                              camids='head.camids')),
        ]
        ''')
    log = train_on_gloo_ranks(config, tmp_path / 'work', tmp_path)

    states, infos = read_rank_probes(tmp_path)
    assert [i['world_size'] for i in infos] == [2, 2]
    assert infos[0]['wrapper'] == 'ReIDDistributedDataParallel'
    for key in ('g', 'l', 'm', 'camids'):
        assert torch.equal(states[0][key], states[1][key]), key
    # Each rank trained its own batches, and both ranks' batches moved the
    # (shared) mixture memory: the entries of every trained image.
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 4
    assert not set(sum(b0, [])) & set(sum(b1, []))
    trained = sorted(set(sum(b0, []) + sum(b1, [])))
    assert (states[0]['m'][trained] != 0).any(1).all()
    assert 'scl/mAP' in log
