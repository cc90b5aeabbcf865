# CUHK03-NP, detected crops (data/cuhk03-np), at the standard 256x128 input.
# Images are resized as torchreid resizes them (PIL, bilinear), so that a
# converted torchreid model gives its own features
# (tests/test_models/test_torchreid_parity.py): the MSMT17 OSNet-x0.25 scores
# 18.88 mAP on CUHK03 dev, as in torchreid (17.93 with OpenCV's bicubic
# resize).
dataset = dict(
    type='CUHK03NP', data_root='data/cuhk03-np', subset='detected')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(128, 256),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(256, 128), padding=10),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(128, 256),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='PackReIDInputs'),
]

# P x K batches (16 pseudo identities x 4 images on each GPU), a fixed number
# of iterations per epoch whatever the number of clusters. The sampler makes
# the loader's batches: both read the one size (a name that starts with __
# is left out of the merged config).
__batch_size = 64
train_dataloader = dict(
    batch_size=__batch_size,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(
        type='CameraAwareIdentitySampler',
        batch_size=__batch_size,
        num_instances=4,
        iters_per_epoch=200),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
# The training set again, with the test pipeline: ClusterRefreshHook extracts
# its features before each re-labelling. test_mode: a sample whose image broke
# since the dataset was built stops these loaders with the file's name (they
# cannot skip one); in training another sample takes its place.
cluster_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='train', pipeline=test_pipeline, test_mode=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric')
test_evaluator = val_evaluator
