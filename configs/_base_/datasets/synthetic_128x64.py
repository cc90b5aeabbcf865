# synthetic.py at the images' own size, 128x64, resized as torchreid resizes
# (PIL, bilinear) and cropped with 5 pixels of padding (the 10 of 256x128 at
# half the height): the input of the MSMT17 OSNet-x0.25, which at 64x32 finds
# identities less well (synthetic demo start: 9.5 mAP against 14.0 here).
_base_ = ['./synthetic.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize', scale=(64, 128), interpolation='bilinear',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(128, 64), padding=5),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize', scale=(64, 128), interpolation='bilinear',
        backend='pillow'),
    dict(type='PackReIDInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
