# The real CUHK03 (detected) crops under data/cuhk03, development
# protocol, as the CPU recipes read them: 128x64 input, one process with two
# loader workers, 100 iterations of 64 images per epoch. 567 identities to
# train on without labels (dev_train.csv), 200 other identities as query /
# gallery (dev_query.csv / dev_gallery.csv); the CSV files number cameras
# from 1. Research use only: data/cuhk03 is a link to the shared copy
# (`make data`, docs/en/user_guides/data.md) and the images are never copied
# here. (The fair CPU protocol reads the same sets at 256x128: ../protocols/.)
data_root = 'data/cuhk03'
cuhk03_dev_train = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    ann_file='splits/dev_train.csv',
    camid_base=1)
cuhk03_dev_test = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    query_ann_file='splits/dev_query.csv',
    gallery_ann_file='splits/dev_gallery.csv',
    camid_base=1)
train_set = cuhk03_dev_train
test_set = cuhk03_dev_test

# The 256x128 augmentation (../datasets/market1501.py) at half the size.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 128), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(128, 64), padding=5),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 128), interpolation='bicubic'),
    dict(type='PackReIDInputs'),
]

# P x K batches: 16 pseudo identities x 4 images. The sampler makes the
# loader's batches: both read the one size (a name that starts with __ is
# left out of the merged config).
__batch_size = 64
train_dataloader = dict(
    batch_size=__batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(
        type='CameraAwareIdentitySampler',
        batch_size=__batch_size,
        num_instances=4,
        iters_per_epoch=100),
    dataset=dict(**train_set, split='train', pipeline=train_pipeline))
# The training set again with the test pipeline, for the features of each
# re-labelling (see ../datasets/market1501.py).
cluster_dataloader = dict(
    batch_size=128,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **train_set, split='train', pipeline=test_pipeline, test_mode=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **test_set, split='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric')
test_evaluator = val_evaluator
