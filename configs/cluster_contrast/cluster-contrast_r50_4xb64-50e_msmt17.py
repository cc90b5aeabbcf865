# Cluster-Contrast, paper recipe on MSMT17: 400 iterations per epoch.
_base_ = [
    '../_base_/models/cluster_contrast_r50.py',
    '../_base_/datasets/msmt17.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(sampler=dict(num_instances=16, iters_per_epoch=400))
