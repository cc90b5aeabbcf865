# cuhk03_dev.py with a validation split for model selection: 67 of the 567
# training identities are held out (never trained on) and serve as the
# validation query / gallery; the test set is only used by the test loop.
# Pair it with `default_hooks = dict(checkpoint=dict(save_best='reid/mAP',
# rule='greater'))` and a `train_cfg.val_interval` below max_epochs to keep
# the best checkpoint by validation mAP.
_base_ = ['./cuhk03_dev.py']

holdout = dict(num_holdout_ids=67, holdout_seed=0)
train_dataloader = dict(dataset=holdout)
cluster_dataloader = dict(dataset=holdout)
# The validation images come from the training annotation file.
val_dataloader = dict(
    dataset=dict(split='holdout', ann_file='splits/dev_train.csv', **holdout))
