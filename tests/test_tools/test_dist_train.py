"""``tools/dist_train.sh CONFIG 2`` on CPU: two gloo processes, one epoch."""
import textwrap

import pytest
import torch

from rank_probe import read_rank_probes, write_rank_probe
from tiny_cluster_contrast import REPO_ROOT, run_dist_train

pytestmark = pytest.mark.dist


def test_dist_train_two_gloo_processes(tiny_synthetic_root, tmp_path):
    probe = write_rank_probe(tmp_path)
    config = tmp_path / 'ddp_cfg.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = ['{REPO_ROOT}/tests/data/configs/tiny_synthetic.py']
        data_root = '{tiny_synthetic_root}'
        train_dataloader = dict(dataset=dict(data_root=data_root))
        cluster_dataloader = dict(dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        train_cfg = dict(max_epochs=1, val_interval=1)
        custom_imports = dict(imports=['{probe}'])
        custom_hooks = [
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6,
                              min_samples=2)),
            dict(type='MemoryMomentumHook'),
            dict(type='RankProbeHook', out_dir='{tmp_path}',
                 tensors=dict(labels='pseudo_labels',
                              bank='head.memory.bank')),
        ]
        '''))
    proc = run_dist_train(config, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]

    states, infos = read_rank_probes(tmp_path)
    assert [i['world_size'] for i in infos] == [2, 2]
    assert infos[0]['wrapper'] == 'ReIDDistributedDataParallel'
    # Identical pseudo labels and memory on both ranks.
    assert states[0]['labels'].numel() > 0
    assert torch.equal(states[0]['labels'], states[1]['labels'])
    assert states[0]['bank'].shape[0] == int(states[0]['labels'].max()) + 1
    assert torch.equal(states[0]['bank'], states[1]['bank'])
    # Each rank trained its own batches: same count, different content.
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 4
    assert all(x != y for x, y in zip(b0, b1))
    # The final validation metric was computed over both ranks' shards.
    assert 'reid/mAP' in proc.stdout + proc.stderr
