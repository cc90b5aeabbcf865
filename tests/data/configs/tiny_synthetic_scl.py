# The SCL demo recipe shrunk for tests: 32x16 input (a 2x1 map: 2 stripes),
# a few iterations, no worker processes, one warm-up epoch, on OSNet-x0.25
# (untrained) as tiny_synthetic.py says why: 128-d global features, two
# 64-d stripes. Tests set every dataset's data_root to a tiny set.
_base_ = ['../../../configs/scl/scl_r18_1xb32-30e_synthetic-demo.py']

model = dict(
    backbone=dict(_delete_=True, type='OSNet', arch='x0_25'),
    neck=dict(
        in_channels=128, global_channels=128, num_stripes=2,
        stripe_channels=64),
    head=dict(
        global_memory=dict(feat_dim=128),
        local_memory=dict(feat_dim=64, num_parts=2),
        mixture_memory=dict(feat_dim=128),
        selector=dict(num_positives=3, num_negatives=20, warmup_epochs=1)))

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
    dict(type='InstanceMemoryHook', progress=False),
    dict(type='MemoryMomentumHook'),
]
randomness = dict(seed=0, deterministic=True)
