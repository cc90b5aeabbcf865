"""GRACL trained by ``tools/train.py`` on two gloo ranks (as
``tools/dist_train.sh CONFIG 2`` runs it on CPU): after an epoch both hold
identical proxy banks."""
import textwrap

import pytest
import torch

from gloo_ranks import train_on_gloo_ranks
from tiny_cluster_contrast import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.dist]

PROBE = '''
import os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class ProxyProbeHook(Hook):
    """Saves this rank's labels, proxy indices and proxy banks."""

    priority = 'LOWEST'

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.selected = {}

    def before_train_epoch(self, runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        self.selected = {
            name: memory.proxy_indices.clone()
            for name, memory in model.head.memories.items()}

    def after_train(self, runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        torch.save(
            dict(labels=model.pseudo_labels,
                 selected=self.selected,
                 banks={name: memory.bank
                        for name, memory in model.head.memories.items()}),
            os.path.join(self.out_dir, f'rank{get_rank()}.pth'))
'''


def test_two_gloo_processes_hold_identical_proxy_banks(tiny_synthetic_root,
                                                       tmp_path):
    (tmp_path / 'proxy_probe.py').write_text(PROBE)
    config = tmp_path / 'gracl_ddp_cfg.py'
    config.write_text(
        textwrap.dedent(f'''
        _base_ = ['{REPO_ROOT}/tests/data/configs/tiny_synthetic.py']
        data_root = '{tiny_synthetic_root}'
        model = dict(
            type='GRACL',
            head=dict(_delete_=True, type='GRACLHead', feat_dim=128))
        train_dataloader = dict(dataset=dict(data_root=data_root))
        cluster_dataloader = dict(dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        train_cfg = dict(max_epochs=1, val_interval=1)
        custom_imports = dict(imports=['proxy_probe'])
        custom_hooks = [
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6,
                              min_samples=2)),
            dict(type='MemoryMomentumHook'),
            dict(type='ProxyProbeHook', out_dir='{tmp_path}'),
        ]
        '''))
    log = train_on_gloo_ranks(config, tmp_path / 'work', tmp_path)

    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    labels = states[0]['labels']
    assert labels.numel() > 0
    assert torch.equal(labels, states[1]['labels'])
    num_clusters = int(labels.max()) + 1
    for name in ('inter', 'intra'):
        selected = [s['selected'][name] for s in states]
        banks = [s['banks'][name] for s in states]
        assert torch.equal(selected[0], selected[1])
        assert torch.equal(labels[selected[0]], torch.arange(num_clusters))
        assert banks[0].shape == (num_clusters, 128)
        assert torch.equal(banks[0], banks[1])
    assert 'loss_inter' in log
