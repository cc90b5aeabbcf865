# PPSSL under the fair CPU protocol, finding pseudo pairs on camera-centred
# features: each camera's mean feature is removed before the pair search
# (the labeler's `camera_centering`). Training and evaluation features are
# unchanged.
_base_ = ['./ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='PseudoPairLabeler',
            max_partners=3,
            search_depth=20,
            curve='similarity',
            reciprocal=True,
            camera_penalty=0.05,
            camera_centering=True)),
    dict(type='MemoryMomentumHook'),
]
