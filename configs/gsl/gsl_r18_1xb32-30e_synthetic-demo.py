# GSL from scratch (no pretrained weights) on the embedded synthetic set at
# 64x32, one process on CPU (`python tools/demo.py --config THIS`): 16 images
# and their augmented copies per batch (32 per BatchNorm batch), 30 epochs of
# 40 iterations, Adam 3.5e-4 as in the Cluster-Contrast demo. A 64x32 input
# leaves a 4x2 ResNet-18 map: 4 patches of 128-d (a padded 3x3 conv in the
# generator) beside the 512-d global feature.
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=512),
    patch_neck=dict(
        in_channels=512,
        num_patches=4,
        out_channels=128,
        generator=dict(hidden_channels=1024, fc_channels=256,
                       conv_padding=1)),
    # The synthetic cameras differ in background and colour: a camera
    # penalty (as SCL's demo lambda_c) makes the credible samples
    # cross-camera; without it they are same-camera look-alikes.
    head=dict(
        memory=dict(feat_dim=512), selector=dict(camera_penalty=0.5)),
    patch_head=dict(num_patches=4, feat_dim=128, embed_dim=64))

# View 0: the synthetic set's usual augmentation; view 1: PAUL's copy.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        views=[
            [
                dict(type='Resize', scale=(32, 64), interpolation='bicubic'),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='RandomCrop', size=(64, 32), padding=3),
                dict(type='RandomErasing', prob=0.5),
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
                dict(type='TorchVisionTransform', name='RandomRotation',
                     degrees=10),
                dict(
                    type='TorchVisionTransform',
                    name='RandomResizedCrop',
                    size=(64, 32),
                    scale=(0.7, 0.95),
                    ratio=(0.35, 0.72)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
        ]),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=16,
        iters_per_epoch=40),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=30, val_interval=30)
param_scheduler = [dict(type='MultiStepLR', milestones=[24], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10))
