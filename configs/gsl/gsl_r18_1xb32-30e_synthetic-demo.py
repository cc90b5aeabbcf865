# GSL from scratch (no pretrained weights) on the embedded synthetic set at
# 64x32, one process on CPU (`python tools/demo.py --config THIS`): 16 images
# and their augmented copies per batch (32 per BatchNorm batch), 30 epochs of
# 40 iterations, Adam 3.5e-4 as in the Cluster-Contrast demo. A 64x32 input
# leaves a 4x2 ResNet-18 map: 4 patches of 128-d (a padded 3x3 conv in the
# generator) beside the 512-d global feature.
_base_ = [
    '../_base_/models/gsl_r18.py',
    '../_base_/datasets/synthetic_two-view.py',
    '../_base_/schedules/adam_3.5e-4_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(init_cfg=None),
    patch_neck=dict(
        num_patches=4, out_channels=128, generator=dict(conv_padding=1)),
    # The synthetic cameras differ in background and colour: a camera
    # penalty (as SCL's demo lambda_c) makes the credible samples
    # cross-camera; without it they are same-camera look-alikes.
    head=dict(selector=dict(camera_penalty=0.5)),
    patch_head=dict(num_patches=4, feat_dim=128, embed_dim=64))
default_hooks = dict(logger=dict(interval=10))
