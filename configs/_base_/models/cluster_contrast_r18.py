# Cluster-Contrast (Dai et al.) as cluster_contrast_r50.py, on ResNet-18
# (ImageNet init where it can be downloaded) for the CPU recipes: last stride
# 1, GeM pooling, BN neck, L2-normalised 512-d features, a cluster-centroid
# memory updated by momentum 0.1 and an InfoNCE loss at temperature 0.05.
# Pseudo labels: k-reciprocal Jaccard distance (k1 30, k2 6) + DBSCAN (eps
# 0.6, 4 samples), refreshed before every epoch, outliers dropped.
model = dict(
    type='ClusterContrast',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(type='BNNeck', in_channels=512, pooling='gem'),
    head=dict(
        type='ClusterContrastHead',
        memory=dict(type='ClusterMemory', feat_dim=512, momentum=0.1),
        loss=dict(type='InfoNCELoss', temperature=0.05)))

custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='DBSCANLabeler', k1=30, k2=6, eps=0.6, min_samples=4)),
    dict(type='MemoryMomentumHook'),
]
