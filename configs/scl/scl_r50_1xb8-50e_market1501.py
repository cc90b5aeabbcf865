# SCL, reference recipe (pangbo1997/Unsup_ReID, configs/test.yml): ResNet-50
# (ImageNet), 256x128, one GPU x 8 images drawn by a plain shuffle (one pass
# over the training set per epoch), SGD 1e-3, 50 epochs.
_base_ = [
    '../_base_/models/scl_r50.py',
    '../_base_/datasets/market1501.py',
    '../_base_/schedules/sgd_1e-3_50e.py',
    '../_base_/default_runtime.py',
]

# SCL trains on Resize + horizontal flip only (its pad, crop and random
# erasing are commented out in data/transforms/build.py).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 256), interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackReIDInputs'),
]
# The sampler makes the loader's batches: both read the one size (a name
# that starts with __ is left out of the merged config).
__batch_size = 8
train_dataloader = dict(
    batch_size=__batch_size,
    sampler=dict(
        _delete_=True, type='RandomInstanceSampler', batch_size=__batch_size),
    dataset=dict(pipeline=train_pipeline))

# Both protocols: the common one (reid/*: the fused embedding, squared
# Euclidean) and SCL's own (scl/*: non-squared global + stripe distances and
# a same-camera term, as in its utils/reid_metric.py).
val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.05),
]
test_evaluator = val_evaluator
