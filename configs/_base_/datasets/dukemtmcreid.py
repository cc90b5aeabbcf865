_base_ = ['./reid_256x128.py']

dataset = dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid')
train_dataloader = dict(dataset=dataset)
cluster_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
