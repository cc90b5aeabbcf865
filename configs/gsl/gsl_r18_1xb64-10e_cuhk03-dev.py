# CPU recipe on the real CUHK03 crops (../shared/data/cuhk03, dev protocol)
# with the Cluster-Contrast CPU recipe's backbone, input, budget and seed:
# ResNet-18 (ImageNet init where it can be downloaded), 128x64, one process,
# 10 epochs of 100 iterations of 64 images (32 images and their augmented
# copies), seed 1, lr x0.1 at epoch 8. On the 8x4 map of ResNet-18: 6
# patches of 256-d (PAUL's) beside a 512-d global feature.
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=512),
    patch_neck=dict(
        in_channels=512,
        generator=dict(hidden_channels=1024, fc_channels=256)),
    head=dict(memory=dict(feat_dim=512)))

# View 0: the 128x64 recipe's augmentation; view 1: PAUL's copy.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        views=[
            [
                dict(type='Resize', scale=(64, 128), interpolation='bicubic'),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='RandomCrop', size=(128, 64), padding=5),
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
                    size=(128, 64),
                    scale=(0.7, 0.95),
                    ratio=(0.35, 0.72)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
        ]),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=32,
        iters_per_epoch=100),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', milestones=[8], gamma=0.1)]
