# cuhk03_dev.py for GSL: each image comes with an augmented copy, the pair
# the patch branch (PAUL) learns from. GSL draws images, not pseudo
# identities: 32 images and their copies per batch, the 64 images per
# iteration (and BatchNorm batch) of cuhk03_dev.py.
_base_ = ['./cuhk03_dev.py']

# View 1 is PAUL's pseudo pair: the image colour-jittered, rotated by up to
# 10 degrees and cropped to 70-95% of its area (aspect kept within 0.7-1/0.7
# of a 1:2 crop), then flipped. View 0 is the 128x64 augmentation of
# cuhk03_dev.py.
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
# The sampler makes the loader's batches: both read the one size (a name
# that starts with __ is left out of the merged config).
__batch_size = 32
train_dataloader = dict(
    batch_size=__batch_size,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=__batch_size,
        iters_per_epoch={{_base_.train_dataloader.sampler.iters_per_epoch}}),
    dataset=dict(pipeline=train_pipeline))
