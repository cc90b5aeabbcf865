# The demo: SCL from scratch (no pretrained weights) on the embedded synthetic
# set at 64x32, one process on CPU (`python tools/demo.py --config THIS`).
# A 64x32 input leaves a 4-row map, so 4 stripes of 128-d beside the 512-d
# global embedding. The synthetic cameras shift colours strongly: with the
# reference's lambda_c = 0.05 the selected neighbours stay in the anchor's
# camera (20% cross-camera on the set of tests/test_e2e), with 0.5 they are
# cross-camera and training works, so the demo uses 0.5.
_base_ = [
    '../_base_/models/scl_r18.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/sgd_1e-3_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(init_cfg=None),
    neck=dict(num_stripes=4, stripe_channels=128),
    head=dict(
        local_memory=dict(feat_dim=128, num_parts=4),
        selector=dict(lambda_c=0.5)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 64), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackReIDInputs'),
]

# SCL draws images, not pseudo identities: the dataset's batch and
# iterations, another sampler.
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size={{_base_.train_dataloader.batch_size}},
        iters_per_epoch={{_base_.train_dataloader.sampler.iters_per_epoch}}),
    dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=30, val_interval=30)
default_hooks = dict(logger=dict(interval=10))

val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.5),
]
test_evaluator = val_evaluator
