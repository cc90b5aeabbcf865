# CPU recipe on the real CUHK03 crops (../shared/data/cuhk03, dev protocol),
# with the backbone, input size, schedule and seed of the Cluster-Contrast
# CPU recipe (configs/cluster_contrast/cluster-contrast_r18_1xb64-10e_
# cuhk03-dev.py): ResNet-18 (ImageNet init where it can be downloaded),
# 128x64, one process, 64 images (16 pseudo identities x 4), 10 epochs of
# 100 iterations.
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=512),
    head=dict(feat_dim=512))

train_dataloader = dict(
    num_workers=2, sampler=dict(num_instances=4, iters_per_epoch=100))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', milestones=[8], gamma=0.1)]
