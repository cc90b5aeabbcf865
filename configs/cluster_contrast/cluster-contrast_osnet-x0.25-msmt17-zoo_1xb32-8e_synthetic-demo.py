# The README demo (`make demo`): a released re-ID model adapted without labels
# to new cameras. The MSMT17 OSNet-x0.25 of the model zoo (a file of the
# repository, no download) learns the embedded synthetic set's identities by
# camera-centred Cluster-Contrast, one process on CPU: 8 epochs of 40
# iterations of 32 images at 128x64, validated after each epoch, about 1.5
# min on 2 cores (README, with the CPU it ran on). The recipe is that of the
# fair CPU protocol, camera-centred (this folder's
# cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_*.py), but for the
# data, the schedule and the labeler.
_base_ = [
    '../_base_/models/cluster_contrast_r50.py',
    '../_base_/datasets/synthetic_128x64.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]

__start = 'zoo://osnet-x0.25_msmt17-torchreid'
model = dict(
    data_preprocessor=dict(channels_last=True),
    backbone=dict(
        _delete_=True,
        type='OSNet',
        arch='x0_25',
        init_cfg=dict(
            type='Pretrained', checkpoint=__start, prefix='backbone')),
    neck=dict(
        _delete_=True,
        type='OSNetFCNeck',
        in_channels=128,
        out_channels=512,
        init_cfg=dict(type='Pretrained', checkpoint=__start, prefix='neck')),
    head=dict(memory=dict(feat_dim=512)))

# A fine-tuning learning rate, constant, as in the protocol (the schedule's
# x0.1 at epoch 8 would not apply in 8 epochs anyway).
param_scheduler = []
train_cfg = dict(max_epochs=8, val_interval=1)
default_hooks = dict(logger=dict(interval=10))

# The labeler of the synthetic set (../_base_/datasets/synthetic.py says why
# its neighbourhood is small and its features camera-centred).
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        labeler={{_base_.synthetic_dbscan_labeler}}),
    dict(type='MemoryMomentumHook'),
]
