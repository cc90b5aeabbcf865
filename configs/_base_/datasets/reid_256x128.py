# Data loading shared by every re-ID dataset at the standard 256x128 input.
# A dataset file inherits this and fills in `dataset=dict(type=..., ...)`.
# Images are resized as torchreid resizes them (PIL, bilinear), so that a
# converted torchreid model gives its own features here (mean cosine 1.0000
# on 200 CUHK03 crops, tests/test_models/test_torchreid_parity.py): the
# MSMT17 OSNet-x0.25 scores 18.88 mAP on CUHK03 dev, as in torchreid; with
# the OpenCV bicubic resize used before, 0.983 and 17.93 mAP.
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
# of iterations per epoch whatever the number of clusters.
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(
        type='CameraAwareIdentitySampler',
        batch_size=64,
        num_instances=4,
        iters_per_epoch=200),
    dataset=dict(split='train', pipeline=train_pipeline))
# The training set again, with the test pipeline: ClusterRefreshHook extracts
# its features before each re-labelling. test_mode: a sample whose image broke
# since the dataset was built stops these loaders with the file's name (they
# cannot skip one); in training another sample takes its place.
cluster_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(split='train', pipeline=test_pipeline, test_mode=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(split='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric')
test_evaluator = val_evaluator
