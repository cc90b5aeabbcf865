# The embedded synthetic multi-camera set (Market-1501 layout), as the
# ResNet-18 demos read it: its 128x64 images at 64x32 (enough for its simple
# shapes, four times faster; `make demo` reads them at 128x64,
# ./synthetic_128x64.py), one process, 40 iterations of 32 images per epoch.
# Its small PNGs are read in the training process: on 2 cores, loader
# workers only took CPU from the model (docs/en/benchmarks.md, "Synthetic
# demo").
data_root = 'data/synthetic_reid'
dataset = dict(type='SyntheticReID', data_root=data_root)

# The 256x128 augmentation (../datasets/market1501.py) at a quarter of the
# size.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 64), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(64, 32), padding=3),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 64), interpolation='bicubic'),
    dict(type='PackReIDInputs'),
]

# P x K batches: 8 pseudo identities x 4 images. The sampler makes the
# loader's batches: both read the one size (a name that starts with __ is
# left out of the merged config).
__batch_size = 32
train_dataloader = dict(
    batch_size=__batch_size,
    num_workers=0,
    sampler=dict(
        type='CameraAwareIdentitySampler',
        batch_size=__batch_size,
        num_instances=4,
        iters_per_epoch=40),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
# The training set again with the test pipeline, for the features of each
# re-labelling (see ../datasets/market1501.py).
cluster_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='train', pipeline=test_pipeline, test_mode=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric')
test_evaluator = val_evaluator

# What `tools/demo.py` generates into `data_root` (the generator's arguments,
# see mmreid_unsup.datasets.synthetic.generate_synthetic_reid).
demo_data_root = data_root
demo_data = dict(
    num_train_ids=100,
    num_test_ids=50,
    num_cams=4,
    images_per_id_per_cam=4,
    seed=0)

# The clustering neighbourhood this set needs, for the Cluster-Contrast
# style demos (`labeler={{_base_.synthetic_dbscan_labeler}}` in their
# ClusterRefreshHook). About 12 images per identity (Market-1501: about 17):
# the paper's k1=30 / eps=0.6 merge several identities per cluster here,
# Cluster-Contrast's small-neighbourhood setting (its InfoMap values k1=15,
# k2=4, eps=0.5) finds about one cluster per identity. Each synthetic camera
# shifts colours and background strongly, so the features are clustered
# camera-centred (each camera's mean feature removed), as the camera-centred
# CUHK03 protocol configs do: from scratch, in 200 iterations, the pseudo
# labels' ARI reached 0.32-0.53 with it on a 40-identity set
# (docs/en/benchmarks.md, "Tests").
synthetic_dbscan_labeler = dict(
    type='DBSCANLabeler',
    k1=15,
    k2=4,
    eps=0.5,
    min_samples=4,
    camera_centering=True)
