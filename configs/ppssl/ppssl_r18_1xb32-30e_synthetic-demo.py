# The demo: PPSSL from scratch (no pretrained weights) on the embedded
# synthetic set at 64x32, one process on CPU
# (`python tools/demo.py --config THIS`). A 64x32 input leaves a 4x2 map, so
# 4 patches of 128-d beside the 512-d global embedding; 5 surrogate-class
# epochs, then 25 with pseudo pairs. The synthetic cameras shift colours
# strongly: without a camera penalty 93% of the pairs are same-camera and
# training learns little (8.95 -> 9.25 mAP in a 6-epoch test), with 0.3 they
# are cross-camera (8.95 -> 28.2 in 10 epochs).
_base_ = [
    '../_base_/models/ppssl_r50.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=512),
    patch_neck=dict(in_channels=512, num_patches=4, patch_channels=128),
    head=dict(
        patch_memory=dict(feat_dim=128, num_parts=4),
        global_memory=dict(feat_dim=512),
        alignment=dict(in_channels=512, channels=128, num_patches=4)))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(
        _delete_=True,
        type='PseudoPairSampler',
        batch_size=32,
        num_instances=4,
        iters_per_epoch=40))
cluster_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = dict(num_workers=2)

train_cfg = dict(max_epochs=30, val_interval=30)
param_scheduler = [dict(type='MultiStepLR', milestones=[24], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10))

custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        labeler=dict(
            type='PseudoPairLabeler',
            max_partners=3,
            search_depth=20,
            camera_penalty=0.3)),
    dict(type='MemoryMomentumHook'),
]
