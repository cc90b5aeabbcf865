# CPU recipe on the real CUHK03 crops (../shared/data/cuhk03, dev protocol)
# with the Cluster-Contrast CPU recipe's backbone, input (128x64), budget
# (one process, 64 images, 10 epochs of 100 iterations) and seed: ResNet-18
# (ImageNet init where it can be downloaded). A 128x64 input leaves an 8x4
# map: 4 patches of 128-d beside the 512-d global embedding; 2 surrogate-class
# epochs, then 8 with pseudo pairs.
_base_ = [
    '../_base_/models/ppssl_r50.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=512),
    patch_neck=dict(in_channels=512, num_patches=4, patch_channels=128),
    head=dict(
        patch_memory=dict(feat_dim=128, num_parts=4),
        global_memory=dict(feat_dim=512),
        alignment=dict(in_channels=512, channels=128, num_patches=4),
        pair_start_epoch=2))

train_dataloader = dict(
    num_workers=2,
    sampler=dict(
        _delete_=True,
        type='PseudoPairSampler',
        batch_size=64,
        num_instances=4,
        iters_per_epoch=100))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', milestones=[8], gamma=0.1)]
