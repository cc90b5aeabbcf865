# market1501.py at PAUL's data side, for GSL's paper-scale recipe: 384x128
# input, and each image with an augmented copy, the pair the patch branch
# (PAUL) learns from; 42 images and their copies per batch (84 per BatchNorm
# batch), drawn by a plain shuffle: one pass over the training set per epoch.
_base_ = ['./market1501.py']

# View 0 is the image (PAUL: flip + resize). View 1 is PAUL's pseudo pair: the
# image colour-jittered, rotated by up to 10 degrees and cropped to 70-95% of
# its area (aspect kept within 0.7-1/0.7 of a 1:2 crop), then flipped.
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
# The sampler makes the loader's batches: both read the one size (a name
# that starts with __ is left out of the merged config).
__batch_size = 42
train_dataloader = dict(
    batch_size=__batch_size,
    sampler=dict(
        _delete_=True, type='RandomInstanceSampler', batch_size=__batch_size),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
