# The Cluster-Contrast synthetic demo recipe shrunk for tests: 32x16 input,
# a few iterations, and the protocol's backbone, OSNet-x0.25 (untrained),
# instead of the demo's ResNet-18: at this input size a training step, a
# checkpoint and a resume cost what the weights cost, 0.14 M of them against
# 11.2 M (the runner-based hook tests, one process: 62 s instead of 92 s).
# tiny_synthetic_r18.py keeps ResNet-18 for the tests that need a second
# architecture. Tests set every dataset's data_root to a tiny set.
_base_ = [
    '../../../configs/cluster_contrast/cluster-contrast_r18_1xb32-10e_synthetic-demo.py'
]

# GeM and BN over the 128 channels: the untrained fc of OSNet's own neck
# (OSNetFCNeck) gave every image nearly the same feature (cosine 0.99995 on
# average), too alike for tests that tell images apart by their features.
model = dict(
    backbone=dict(_delete_=True, type='OSNet', arch='x0_25'),
    neck=dict(in_channels=128),
    head=dict(memory=dict(feat_dim=128)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16, 32), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(32, 16), padding=2),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16, 32), interpolation='bilinear'),
    dict(type='PackReIDInputs'),
]
train_dataloader = dict(
    batch_size=8,
    sampler=dict(batch_size=8, num_instances=2, iters_per_epoch=4),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
train_cfg = dict(max_epochs=2, val_interval=2)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        progress=False,
        labeler=dict(
            type='DBSCANLabeler', k1=6, k2=2, eps=0.6, min_samples=2)),
    dict(type='MemoryMomentumHook'),
]
randomness = dict(seed=0, deterministic=True)
