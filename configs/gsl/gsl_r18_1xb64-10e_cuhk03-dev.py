# CPU recipe on the real CUHK03 crops (data/cuhk03, dev protocol)
# with the Cluster-Contrast CPU recipe's backbone, input, budget and seed:
# ResNet-18 (ImageNet init where it can be downloaded), 128x64, one process,
# 10 epochs of 100 iterations of 64 images (32 images and their augmented
# copies), seed 1, lr x0.1 at epoch 8. On the 8x4 map of ResNet-18: 6
# patches of 256-d (PAUL's) beside a 512-d global feature.
_base_ = [
    '../_base_/models/gsl_r18.py',
    '../_base_/datasets/cuhk03_dev_two-view.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]
