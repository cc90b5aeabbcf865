# GRACL under the fair CPU protocol: the MSMT17 OSNet-x0.25 adapted without
# labels to the CUHK03 crops, with Cluster-Contrast's optimizer. Everything
# but the method is the protocol's. Chosen on the held-out validation
# identities (benchmarks/results/tuning/gracl.md; val mAP 31.08 at epoch 0):
# - the DBSCAN labeler clusters camera-centred features (its
#   `camera_centering`), as camera-centred Cluster-Contrast does;
# - the inter-ID relation-aware proxies only: with the intra-ID proxies too,
#   val mAP 43.02; without them 48.64 (camera-centred Cluster-Contrast:
#   44.69). The intra-ID proxy, the member least like its cluster, is in a
#   noisy cluster most often a wrongly clustered person.
#   `gracl-both-proxies_...` is the abstract's two modules.
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-msmt17.py',
]

model = dict(
    data_preprocessor={{_base_.protocol_data_preprocessor}},
    backbone={{_base_.protocol_backbone}},
    neck={{_base_.protocol_neck}},
    head=dict(feat_dim={{_base_.protocol_feat_dim}}, intra_memory=None))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='DBSCANLabeler',
            k1=30,
            k2=6,
            eps=0.6,
            min_samples=4,
            camera_centering=True)),
    dict(type='MemoryMomentumHook'),
]
