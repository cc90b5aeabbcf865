# GSL on DukeMTMC-reID (see the Market-1501 recipe): PAUL's Duke settings,
# 40 images (80 with their copies) per batch and PEDAL scale 5.
_base_ = ['./gsl_r50_1xb84-60e_market1501.py']

dataset = dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid')
model = dict(patch_head=dict(patch_loss=dict(scale=5.0)))
train_dataloader = dict(
    batch_size=40, sampler=dict(batch_size=40), dataset=dataset)
cluster_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
