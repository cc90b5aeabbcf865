# SCL, reference recipe on MSMT17 (see the Market-1501 one).
_base_ = ['./scl_r50_1xb8-50e_market1501.py']

dataset = dict(type='MSMT17', data_root='data/msmt17')
train_dataloader = dict(dataset=dataset)
cluster_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
