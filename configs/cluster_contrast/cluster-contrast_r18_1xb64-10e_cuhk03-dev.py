# CPU recipe on the real CUHK03 crops (data/cuhk03, dev protocol):
# ResNet-18 (ImageNet init where it can be downloaded), 128x64, one process,
# 64 images (16 pseudo identities x 4), 10 epochs of 100 iterations: about
# 30 minutes on 2 CPU cores (figures in configs/cluster_contrast/README.md).
_base_ = [
    '../_base_/models/cluster_contrast_r18.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]
