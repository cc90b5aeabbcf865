"""PPSSL trained by ``tools/train.py`` on two gloo ranks (as
``tools/dist_train.sh CONFIG 2`` runs it on CPU): the pseudo pairs are
found on rank 0 and broadcast, so both gloo processes hold the same partner
matrix and the same memories."""
import pytest
import torch

from gloo_ranks import train_on_gloo_ranks
from rank_probe import read_rank_probes, write_rank_probe
from tiny_ppssl import write_tiny_ppssl_config

pytestmark = pytest.mark.dist


def test_dist_train_ppssl_two_gloo_processes(tiny_synthetic_root, tmp_path):
    probe = write_rank_probe(tmp_path)
    config = write_tiny_ppssl_config(
        tiny_synthetic_root, tmp_path / 'ddp_ppssl_cfg.py', f'''
        train_cfg = dict(max_epochs=2, val_interval=2)
        custom_imports = dict(imports=['{probe}'])
        custom_hooks = [
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='PseudoPairLabeler', max_partners=3,
                              camera_penalty=0.3)),
            dict(type='MemoryMomentumHook'),
            dict(type='RankProbeHook', out_dir='{tmp_path}',
                 tensors=dict(pairs='pseudo_labels',
                              g='head.global_memory.bank',
                              p='head.patch_memory.bank')),
        ]
        ''')
    log = train_on_gloo_ranks(config, tmp_path / 'work', tmp_path)

    states, infos = read_rank_probes(tmp_path)
    assert [i['world_size'] for i in infos] == [2, 2]
    pairs = states[0]['pairs']
    assert pairs.dim() == 2 and (pairs >= 0).any()
    for key in ('pairs', 'g', 'p'):
        assert torch.equal(states[0][key], states[1][key]), key
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 8
    # Each rank trains its own batches.
    assert b0 != b1
    assert 'reid/mAP' in log
