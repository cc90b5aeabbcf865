# The PPSSL demo recipe shrunk for tests: 32x16 input (a 2x1 map: 2
# patches), a few iterations, no worker processes, one surrogate-class
# epoch, on OSNet-x0.25 (untrained) as tiny_synthetic.py says why. Tests
# set every dataset's data_root to a tiny set.
_base_ = ['../../../configs/ppssl/ppssl_r18_1xb32-30e_synthetic-demo.py']

model = dict(
    backbone=dict(_delete_=True, type='OSNet', arch='x0_25'),
    neck=dict(in_channels=128),
    patch_neck=dict(in_channels=128, num_patches=2, patch_channels=64),
    head=dict(
        patch_memory=dict(feat_dim=64, num_parts=2),
        global_memory=dict(feat_dim=128),
        alignment=dict(in_channels=128, channels=32, num_patches=2),
        pair_start_epoch=1))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16, 32), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16, 32), interpolation='bilinear'),
    dict(type='PackReIDInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(batch_size=8, iters_per_epoch=4),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(
    batch_size=32, num_workers=0, dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=0, dataset=dict(pipeline=test_pipeline))
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        progress=False,
        labeler=dict(
            type='PseudoPairLabeler', max_partners=3, camera_penalty=0.3)),
    dict(type='MemoryMomentumHook'),
]
randomness = dict(seed=0, deterministic=True)
