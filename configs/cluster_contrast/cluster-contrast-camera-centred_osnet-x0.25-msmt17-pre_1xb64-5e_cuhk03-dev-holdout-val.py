# Model choice for cluster-contrast-camera-centred_..._cuhk03-dev.py: the
# same run with 67 of the 567 training identities held out (never trained
# on) as the validation query / gallery, as
# configs/_base_/datasets/cuhk03_dev_holdout-val.py does. Choices (here:
# whether to centre the clustering features by camera) are made on these
# numbers, never on dev_query / dev_gallery. To stay two _base_ levels deep
# it inherits the plain recipe and states both differences: the
# camera-centred labeler and the held-out split.
_base_ = ['./cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

# The camera-centred labeler.
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

# The held-out split.
holdout = dict(num_holdout_ids=67, holdout_seed=0)
train_dataloader = dict(dataset=holdout)
cluster_dataloader = dict(dataset=holdout)
val_dataloader = dict(
    dataset=dict(
        split='holdout',
        ann_file='splits/dev_train.csv',
        query_ann_file='',
        gallery_ann_file='',
        **holdout))
test_dataloader = val_dataloader
