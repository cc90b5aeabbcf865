# CPU recipe on the real CUHK03 crops (data/cuhk03, dev protocol),
# with the backbone, input size, schedule and seed of the Cluster-Contrast
# CPU recipe (configs/cluster_contrast/cluster-contrast_r18_1xb64-10e_
# cuhk03-dev.py): ResNet-18 (ImageNet init where it can be downloaded),
# 128x64, one process, 64 images (16 pseudo identities x 4), 10 epochs of
# 100 iterations.
_base_ = [
    '../_base_/models/gracl_r18.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]
