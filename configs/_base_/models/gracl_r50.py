# GRACL (TCSVT 2022) on Cluster-Contrast's pipeline: ResNet-50 with last
# stride 1, GeM pooling, BN neck, L2-normalised 2048-d features; pseudo
# labels from the k-reciprocal Jaccard distance (k1 30, k2 6) + DBSCAN
# (eps 0.6, 4 samples), refreshed before every epoch, outliers dropped.
# Two proxies per cluster, each in its own memory and InfoNCE loss:
# - inter-ID: the member whose nearest sample of another cluster is the
#   least similar (relation='centroid': nearest other centroid, cheaper);
# - intra-ID: the member least similar to its cluster's centroid (= to the
#   rest of its cluster).
# Proxies are selected at each refresh (rank 0, broadcast) and move by
# momentum 0.1 with the batch member the same rule picks ('hard'), against
# the memory's running centroid estimates (centroid_momentum 0.5).
# configs/gracl/README.md says which parts are the paper's and which are
# this toolbox's interpretation.
model = dict(
    type='GRACL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=50,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='BNNeck', in_channels=2048, pooling='gem'),
    head=dict(
        type='GRACLHead',
        feat_dim=2048,
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
