# Model choice for the config below: the same run with 67 of the 567
# training identities held out (never trained on) as the validation query /
# gallery, as configs/_base_/datasets/cuhk03_dev_holdout-val.py does.
# Choices (here: whether to centre the clustering features by camera) are
# made on these numbers, never on dev_query / dev_gallery.
_base_ = [
    './cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
]

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
