# CPU recipe on the real CUHK03 crops (../shared/data/cuhk03, dev protocol),
# with the Cluster-Contrast CPU recipe's backbone, input, budget and seed:
# ResNet-18 (ImageNet init where it can be downloaded), 128x64, one process,
# 10 epochs of 100 iterations of 64 images, seed 1. The embedding keeps SCL's
# proportions on 512 channels: 512-d global, 8 stripes of 64-d.
_base_ = [
    '../_base_/models/scl_r50.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/sgd_1e-3_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=512, global_channels=512, stripe_channels=64),
    head=dict(
        global_memory=dict(feat_dim=512),
        local_memory=dict(feat_dim=64),
        mixture_memory=dict(feat_dim=512)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 128), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackReIDInputs'),
]
train_dataloader = dict(
    num_workers=2,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=64,
        iters_per_epoch=100),
    dataset=dict(pipeline=train_pipeline))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

# 8x the reference batch, so 8x its learning rate (linear scaling).
optim_wrapper = dict(optimizer=dict(lr=8e-3))
train_cfg = dict(max_epochs=10, val_interval=10)

val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.05),
]
test_evaluator = val_evaluator
