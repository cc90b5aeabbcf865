# The demo: PPSSL from scratch (no pretrained weights) on the embedded
# synthetic set at 64x32, one process on CPU
# (`python tools/demo.py --config THIS`). A 64x32 input leaves a 4x2 map, so
# 4 patches of 128-d beside the 512-d global embedding; 5 surrogate-class
# epochs, then 25 with pseudo pairs. The synthetic cameras shift colours
# strongly: without a camera penalty 93% of the pairs are same-camera and
# training learns little (8.95 -> 9.25 mAP in a 6-epoch test), with 0.3 they
# are cross-camera (8.95 -> 28.2 in 10 epochs).
_base_ = [
    '../_base_/models/ppssl_r18.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=None))
# Batches of anchors with their pseudo partners (the identity sampler's
# batch, iterations and group size).
train_dataloader = dict(sampler=dict(type='PseudoPairSampler'))
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
