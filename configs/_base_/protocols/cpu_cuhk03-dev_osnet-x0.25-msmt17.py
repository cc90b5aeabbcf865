# The fair CPU comparison protocol (benchmarks/compare_methods.py): every
# method starts from the same public re-ID model, the MSMT17-trained
# OSNet-x0.25 of torchreid (../shared/weights/osnet_x0_25_msmt17.pth), and
# adapts without labels to the real CUHK03 crops (dev_train.csv, 5,452
# images), evaluated on dev_query.csv / dev_gallery.csv. Input size, batch,
# iterations, epochs, learning-rate schedule and seed are fixed here: 5
# epochs of 60 iterations of 64 images at 256x128, about 7 minutes per method
# on 2 CPU cores (benchmarks/results/compare_methods.md), so that a method,
# its ablations and several seeds fit in one sitting. A method's protocol
# config inherits this file with its model base and states only the
# method: its head, its optimizer, and the backbone / neck / data
# preprocessor below by name:
#
#   model = dict(data_preprocessor=protocol_data_preprocessor,
#                backbone=protocol_backbone, neck=protocol_neck, ...)
#
# Random initialisation is not an option at this scale: from scratch the
# pseudo labels never find identities here (ARI about 0.003), so method
# comparisons would measure noise (../shared/ENVIRONMENT.md).
_base_ = [
    '../datasets/reid_256x128.py', '../datasets/cuhk03_dev_sets.py',
    '../default_runtime.py'
]

protocol_weights = '../shared/weights/osnet_x0_25_msmt17.pth'
# torchreid's parameter names: the backbone takes the conv layers and the
# neck its `fc` embedding from the same file (each ignores the other's keys).
protocol_backbone = dict(
    _delete_=True,
    type='OSNet',
    arch='x0_25',
    init_cfg=dict(type='Pretrained', checkpoint=protocol_weights))
protocol_neck = dict(
    _delete_=True,
    type='OSNetFCNeck',
    in_channels=128,
    out_channels=512,
    init_cfg=dict(type='Pretrained', checkpoint=protocol_weights))
protocol_feat_dim = 512
# Batches in the channels-last layout: training steps of the protocol model
# 1.57x faster, feature passes 1.20x, on a 2-core AVX-512 Xeon
# (benchmarks/training_step.py, benchmarks/feature_extraction.py).
protocol_data_preprocessor = dict(
    type='ReIDDataPreprocessor', channels_last=True)

# 256x128 (reid_256x128.py) as the OSNet was trained: 18.9 mAP before
# adaptation in ../shared/ENVIRONMENT.md, 5.5 at 128x64.
train_set = {{_base_.cuhk03_dev_train}}
test_set = {{_base_.cuhk03_dev_test}}
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    sampler=dict(batch_size=64, num_instances=4, iters_per_epoch=60),
    dataset=train_set)
cluster_dataloader = dict(batch_size=64, num_workers=2, dataset=train_set)
val_dataloader = dict(batch_size=64, num_workers=2, dataset=test_set)
test_dataloader = val_dataloader

train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=5, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# A fine-tuning learning rate, constant: the model is already a re-ID model.
param_scheduler = []
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1))
randomness = dict(seed=1, deterministic=False)
