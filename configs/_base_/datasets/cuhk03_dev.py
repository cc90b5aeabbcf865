# The real CUHK03 (detected) crops of ../shared/data/cuhk03, development
# protocol: 567 identities to train on without labels (dev_train.csv), 200
# other identities as query / gallery (dev_query.csv / dev_gallery.csv).
# Research use only: the images stay in ../shared and are never copied here.
_base_ = ['./reid_128x64.py']

data_root = '../shared/data/cuhk03'
train_set = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    ann_file='splits/dev_train.csv',
    camid_base=1)
test_set = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    query_ann_file='splits/dev_query.csv',
    gallery_ann_file='splits/dev_gallery.csv',
    camid_base=1)
train_dataloader = dict(dataset=train_set)
cluster_dataloader = dict(dataset=train_set)
val_dataloader = dict(dataset=test_set)
test_dataloader = dict(dataset=test_set)
