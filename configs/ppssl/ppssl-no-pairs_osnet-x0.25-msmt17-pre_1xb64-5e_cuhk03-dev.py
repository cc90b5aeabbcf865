# PPSSL without pseudo pairs: patch surrogate classes (and global instance
# discrimination) for the whole schedule; pairs are still found and logged,
# and still group the sampler's batches, but no loss uses them.
_base_ = ['./ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(pair_start_epoch=1000))
