# Model choice for cluster-contrast-camera-centred_..._cuhk03-dev.py: the
# held-out validation run of plain Cluster-Contrast (67 of the 567 training
# identities never trained on, as the validation query / gallery) with the
# camera-centred labeler of that config, restated here so that this config
# stays two _base_ levels deep. Choices (here: whether to centre the
# clustering features by camera) are made on these numbers, never on
# dev_query / dev_gallery.
_base_ = [
    './cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev-'
    'holdout-val.py'
]

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
