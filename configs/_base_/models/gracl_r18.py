# GRACL (TCSVT 2022) as gracl_r50.py, on ResNet-18 (ImageNet init where it
# can be downloaded) for the CPU recipes: Cluster-Contrast's pipeline with
# 512-d features, two proxies per cluster (inter-ID: the member whose
# nearest sample of another cluster is the least similar; intra-ID: the
# member least similar to its cluster's centroid), each in its own memory
# (momentum 0.1, 'hard' updates) and InfoNCE loss at temperature 0.05.
# gracl_r50.py and configs/gracl/README.md say more.
model = dict(
    type='GRACL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(type='BNNeck', in_channels=512, pooling='gem'),
    head=dict(
        type='GRACLHead',
        feat_dim=512,
        inter_memory=dict(
            type='ProxyMemory',
            selector=dict(type='InterIDProxySelector', relation='sample'),
            momentum=0.1,
            update_rule='hard'),
        intra_memory=dict(
            type='ProxyMemory',
            selector=dict(type='IntraIDProxySelector'),
            momentum=0.1,
            update_rule='hard'),
        # The optional Cluster-Contrast centroid term is off (the head's
        # default centroid_memory=None); a leaf config turns it on with
        # head=dict(centroid_memory=dict(type='ClusterMemory', momentum=0.1)).
        loss_inter=dict(type='InfoNCELoss', temperature=0.05, loss_weight=1.0),
        loss_intra=dict(type='InfoNCELoss', temperature=0.05, loss_weight=1.0),
        loss_centroid=dict(
            type='InfoNCELoss', temperature=0.05, loss_weight=1.0)))

custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='DBSCANLabeler', k1=30, k2=6, eps=0.6, min_samples=4)),
    dict(type='MemoryMomentumHook'),
]
