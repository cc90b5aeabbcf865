# synthetic.py for GSL: each image comes with an augmented copy, the pair the
# patch branch (PAUL) learns from. GSL draws images, not pseudo identities:
# 16 images and their copies per batch, 32 per BatchNorm batch as in
# synthetic.py.
_base_ = ['./synthetic.py']

# View 1 is PAUL's pseudo pair: the image colour-jittered, rotated by up to
# 10 degrees and cropped to 70-95% of its area (aspect kept within 0.7-1/0.7
# of a 1:2 crop), then flipped. View 0 is the set's usual augmentation.
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
# The sampler makes the loader's batches: both read the one size (a name
# that starts with __ is left out of the merged config).
__batch_size = 16
train_dataloader = dict(
    batch_size=__batch_size,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=__batch_size,
        iters_per_epoch={{_base_.train_dataloader.sampler.iters_per_epoch}}),
    dataset=dict(pipeline=train_pipeline))
