# The GSL demo recipe shrunk for tests: 32x16 input (a 2x1 map: 2 patches),
# small memories' neighbourhoods, a few iterations, no worker processes.
# Tests set every dataset's data_root to a tiny set.
_base_ = ['../../../configs/gsl/gsl_r18_1xb32-30e_synthetic-demo.py']

model = dict(
    patch_neck=dict(num_patches=2, generator=dict(hidden_channels=128)),
    head=dict(selector=dict(num_neighbours=4)),
    patch_head=dict(
        num_patches=2, patch_loss=dict(num_neighbours=4),
        image_loss=dict(max_candidates=5)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        views=[
            [
                dict(type='Resize', scale=(16, 32), interpolation='bilinear'),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
            [
                dict(
                    type='TorchVisionTransform',
                    name='ColorJitter',
                    brightness=0.2,
                    contrast=0.2,
                    saturation=0.2,
                    hue=0.1),
                dict(
                    type='TorchVisionTransform',
                    name='RandomResizedCrop',
                    size=(32, 16),
                    scale=(0.7, 0.95),
                    ratio=(0.35, 0.72)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
        ]),
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
param_scheduler = []
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [
    dict(type='InstanceMemoryHook', progress=False),
    dict(type='MemoryMomentumHook'),
]
randomness = dict(seed=0, deterministic=True)
