# GRACL under the fair CPU protocol, clustering camera-centred features:
# each camera's mean feature is removed before the Jaccard / DBSCAN step (the
# labeler's `camera_centering`). Training and evaluation features are
# unchanged.
_base_ = ['./gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

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
