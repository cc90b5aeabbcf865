# GSL on Market-1501 at paper scale: ResNet-50 (ImageNet), PAUL's data side
# (384x128; 42 images per batch, each with an augmented copy: 84 images per
# BatchNorm batch; one shuffled pass per epoch; 60 epochs, lr x0.1 at 50).
# Adam 3.5e-4 (SpCL's memory-classifier optimiser) replaces PAUL's SGD 1e-4,
# a fine-tuning rate for PAUL's labelled MSMT17 start: GSL starts from
# ImageNet (interpreted, configs/gsl/README.md).
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/datasets/market1501.py',
    '../_base_/default_runtime.py',
]

# View 0: the image (PAUL: flip + resize). View 1: PAUL's pseudo pair, the
# image colour-jittered, rotated by up to 10 degrees and cropped to 70-95%
# of its area (aspect kept within 0.7-1/0.7 of a 1:2 crop), then flipped.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        views=[
            [
                dict(type='Resize', scale=(128, 384),
                     interpolation='bilinear'),
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
                dict(type='TorchVisionTransform', name='RandomRotation',
                     degrees=10),
                dict(
                    type='TorchVisionTransform',
                    name='RandomResizedCrop',
                    size=(384, 128),
                    scale=(0.7, 0.95),
                    ratio=(0.35, 0.72)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
        ]),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 384), interpolation='bilinear'),
    dict(type='PackReIDInputs'),
]
train_dataloader = dict(
    batch_size=42,
    sampler=dict(_delete_=True, type='RandomInstanceSampler', batch_size=42),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=60)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
