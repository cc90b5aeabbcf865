# CPU recipe on the real CUHK03 crops (data/cuhk03, dev protocol),
# with the Cluster-Contrast CPU recipe's backbone, input, budget and seed:
# ResNet-18 (ImageNet init where it can be downloaded), 128x64, one process,
# 10 epochs of 100 iterations of 64 images, seed 1. The embedding keeps SCL's
# proportions on 512 channels: 512-d global, 8 stripes of 64-d.
_base_ = [
    '../_base_/models/scl_r18.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/sgd_1e-3_50e.py',
    '../_base_/default_runtime.py',
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 128), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackReIDInputs'),
]
# SCL draws images, not pseudo identities: the dataset's batch and
# iterations, another sampler.
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size={{_base_.train_dataloader.batch_size}},
        iters_per_epoch={{_base_.train_dataloader.sampler.iters_per_epoch}}),
    dataset=dict(pipeline=train_pipeline))

# 8x the reference batch, so 8x its learning rate (linear scaling).
optim_wrapper = dict(optimizer=dict(lr=8e-3))
train_cfg = dict(max_epochs=10, val_interval=10)

val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.05),
]
test_evaluator = val_evaluator
