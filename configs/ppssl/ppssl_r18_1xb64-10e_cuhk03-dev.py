# CPU recipe on the real CUHK03 crops (data/cuhk03, dev protocol)
# with the Cluster-Contrast CPU recipe's backbone, input (128x64), budget
# (one process, 64 images, 10 epochs of 100 iterations) and seed: ResNet-18
# (ImageNet init where it can be downloaded). A 128x64 input leaves an 8x4
# map: 4 patches of 128-d beside the 512-d global embedding; 2 surrogate-class
# epochs, then 8 with pseudo pairs.
_base_ = [
    '../_base_/models/ppssl_r18.py',
    '../_base_/datasets/cuhk03_dev.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(pair_start_epoch=2))
# Batches of anchors with their pseudo partners (the identity sampler's
# batch, iterations and group size).
train_dataloader = dict(sampler=dict(type='PseudoPairSampler'))
