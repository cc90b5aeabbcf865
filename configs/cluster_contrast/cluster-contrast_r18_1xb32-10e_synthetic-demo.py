# Cluster-Contrast from scratch (no pretrained weights) on the embedded
# synthetic set at 64x32, one process on CPU: 10 epochs of 40 iterations,
# about 2 min on 2 cores (docs/en/benchmarks.md, "Synthetic demo").
# `make demo` adapts the model zoo's OSNet instead
# (cluster-contrast_osnet-x0.25-msmt17-zoo_1xb32-8e_synthetic-demo.py).
_base_ = [
    '../_base_/models/cluster_contrast_r18.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_3.5e-4_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=None))
default_hooks = dict(logger=dict(interval=10))

# The labeler of the synthetic set (../_base_/datasets/synthetic.py says why
# its neighbourhood is small and its features camera-centred). The learning
# tests of Cluster-Contrast and GRACL cluster with it too
# (tests/protocol_synthetic.py).
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        labeler={{_base_.synthetic_dbscan_labeler}}),
    dict(type='MemoryMomentumHook'),
]
