# The real CUHK03 (detected) crops of ../shared/data/cuhk03, development
# protocol, as dataset configs only (no loaders, no pipeline), so that a
# loader file of any input size can take them: 567 identities to train on
# without labels (dev_train.csv), 200 other identities as query / gallery
# (dev_query.csv / dev_gallery.csv). Research use only: the images stay in
# ../shared and are never copied here.
data_root = '../shared/data/cuhk03'
cuhk03_dev_train = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    ann_file='splits/dev_train.csv',
    camid_base=1)
cuhk03_dev_test = dict(
    type='ReIDAnnotationDataset',
    data_root=data_root,
    query_ann_file='splits/dev_query.csv',
    gallery_ann_file='splits/dev_gallery.csv',
    camid_base=1)
