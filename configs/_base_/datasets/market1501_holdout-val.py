# market1501.py with a validation split for model selection: 100 of the 751
# training identities are held out (never trained on) and serve as the
# validation query / gallery; the test set is only used by the test loop.
# Pair it with `default_hooks = dict(checkpoint=dict(save_best='reid/mAP',
# rule='greater'))` and a `train_cfg.val_interval` below max_epochs to keep
# the best checkpoint by validation mAP.
_base_ = ['./market1501.py']

holdout = dict(num_holdout_ids=100, holdout_seed=0)
train_dataloader = dict(dataset=holdout)
cluster_dataloader = dict(dataset=holdout)
val_dataloader = dict(dataset=dict(split='holdout', **holdout))
