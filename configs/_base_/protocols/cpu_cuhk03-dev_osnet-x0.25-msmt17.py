# The fair CPU comparison protocol (benchmarks/compare_methods.py): every
# method starts from the same public re-ID model, the MSMT17-trained
# OSNet-x0.25 of torchreid (data/weights/osnet_x0_25_msmt17.pth), and
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
# The file holds everything else, runtime included, so that a method config
# is only two levels deep with its ablations (tests/test_configs/
# test_config_depth.py); its runtime is ../default_runtime.py's with a log
# line every 10 iterations and one checkpoint kept (tests/test_configs/
# test_protocol_configs.py checks that nothing else differs).
#
# Random initialisation is not an option at this scale: from scratch the
# pseudo labels never find identities here (ARI about 0.003), so method
# comparisons would measure noise (../shared/ENVIRONMENT.md).

# -- The starting model -------------------------------------------------------
protocol_weights = 'data/weights/osnet_x0_25_msmt17.pth'
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

# -- Data ---------------------------------------------------------------------
# The CUHK03 development sets of ../datasets/cuhk03_dev.py at 256x128, as the
# OSNet was trained: 18.9 mAP before adaptation in ../shared/ENVIRONMENT.md,
# 5.5 at 128x64. Images are resized as torchreid resizes them (PIL,
# bilinear), so that the converted OSNet gives torchreid's own features
# (mean cosine 1.0000 on 200 CUHK03 crops, tests/test_models/
# test_torchreid_parity.py): 18.88 mAP on CUHK03 dev, as in torchreid; with
# the OpenCV bicubic resize used before, 0.983 and 17.93 mAP.
data_root = 'data/cuhk03'
cuhk03_dev_train = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    ann_file='splits/dev_train.csv',
    camid_base=1)
cuhk03_dev_test = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    query_ann_file='splits/dev_query.csv',
    gallery_ann_file='splits/dev_gallery.csv',
    camid_base=1)
train_set = cuhk03_dev_train
test_set = cuhk03_dev_test

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(128, 256),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(256, 128), padding=10),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(128, 256),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='PackReIDInputs'),
]

# P x K batches: 16 pseudo identities x 4 images. The sampler makes the
# loader's batches: both read the one size (a name that starts with __ is
# left out of the merged config).
__batch_size = 64
train_dataloader = dict(
    batch_size=__batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(
        type='CameraAwareIdentitySampler',
        batch_size=__batch_size,
        num_instances=4,
        iters_per_epoch=60),
    dataset=dict(**train_set, split='train', pipeline=train_pipeline))
# The training set again with the test pipeline, for the features of each
# re-labelling (see ../datasets/market1501.py).
cluster_dataloader = dict(
    batch_size=64,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **train_set, split='train', pipeline=test_pipeline, test_mode=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **test_set, split='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric')
test_evaluator = val_evaluator

# -- Schedule -----------------------------------------------------------------
# Resumable: --resume from a mid-epoch checkpoint continues that epoch.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=5, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# A fine-tuning learning rate, constant: the model is already a re-ID model.
param_scheduler = []

# -- Runtime ------------------------------------------------------------------
# ../default_runtime.py's (see there for each setting) but for the two marked.
default_scope = 'mmreid_unsup'
runner_type = 'mmreid_unsup.ReIDRunner'
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),  # protocol: 10, not 20
    param_scheduler=dict(type='ParamSchedulerHook'),
    # protocol: the last checkpoint only, not 3
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    random_state=dict(type='RandomStateHook'),
    non_finite_loss=dict(type='NonFiniteLossHook'),
    sync_norm_stats=dict(type='SyncNormStatsHook'),
    checkpoint_fit=dict(type='CheckpointFitHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
model_wrapper_cfg = dict(
    type='mmreid_unsup.ReIDDistributedDataParallel', broadcast_buffers=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=True, window_size=20)
log_level = 'INFO'
load_from = None
load_from_strict = True
resume = False
randomness = dict(seed=1, deterministic=False)
