_base_ = ['./reid_256x128.py']

dataset = dict(type='CUHK03NP', data_root='data/cuhk03-np', subset='detected')
train_dataloader = dict(dataset=dataset)
cluster_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
