# GRACL, paper-scale recipe: Cluster-Contrast's (ResNet-50 ImageNet,
# 256x128, 4 GPUs x 64 images = 16 pseudo identities x 16 instances, Adam
# 3.5e-4, 50 epochs of 200 iterations) with the GRACL head.
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/datasets/market1501.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(sampler=dict(num_instances=16, iters_per_epoch=200))
