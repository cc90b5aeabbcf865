# GRACL from scratch on the embedded synthetic set at 64x32, one process on
# CPU: the Cluster-Contrast demo (configs/cluster_contrast/cluster-contrast_
# r18_1xb32-10e_synthetic-demo.py) with the GRACL head.
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=512),
    head=dict(feat_dim=512))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(batch_size=32, num_instances=4, iters_per_epoch=40))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', milestones=[8], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10))

# The small-neighbourhood, camera-centred DBSCAN setting of the
# Cluster-Contrast demo (the paper's k1=30 / eps=0.6 merge this small set
# into a few clusters; the synthetic cameras shift colours strongly).
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        labeler=dict(
            type='DBSCANLabeler',
            k1=15,
            k2=4,
            eps=0.5,
            min_samples=4,
            camera_centering=True)),
    dict(type='MemoryMomentumHook'),
]
