# The README demo: Cluster-Contrast from scratch (no pretrained weights) on
# the embedded synthetic set at 64x32, one process on CPU, about 4 minutes
# on 2 cores (README).
_base_ = [
    '../_base_/models/cluster_contrast_r50.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=512),
    head=dict(memory=dict(feat_dim=512)))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(batch_size=32, num_instances=4, iters_per_epoch=40))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=30, val_interval=30)
param_scheduler = [dict(type='MultiStepLR', milestones=[24], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10))

# The synthetic identities have about 12 images each (Market-1501: about 17)
# and random-init features are weak: the paper's k1=30 / eps=0.6 merge the
# whole set into a few camera-driven clusters (ARI 0.01 at epoch 0 here),
# while Cluster-Contrast's own small-neighbourhood setting (its InfoMap
# values k1=15, k2=4, eps=0.5) finds about one cluster per identity.
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        labeler=dict(
            type='DBSCANLabeler', k1=15, k2=4, eps=0.5, min_samples=4)),
    dict(type='MemoryMomentumHook'),
]
