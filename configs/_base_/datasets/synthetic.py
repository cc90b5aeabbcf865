# The embedded synthetic multi-camera set (Market-1501 layout): 128x64
# images, read at 64x32 (enough for its simple shapes, four times faster).
_base_ = ['./reid_64x32.py']

data_root = 'data/synthetic_reid'
dataset = dict(type='SyntheticReID', data_root=data_root)
train_dataloader = dict(dataset=dataset)
cluster_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)

# What `tools/demo.py` generates into `data_root` (the generator's arguments,
# see mmreid_unsup.datasets.synthetic.generate_synthetic_reid).
demo_data_root = data_root
demo_data = dict(
    num_train_ids=100,
    num_test_ids=50,
    num_cams=4,
    images_per_id_per_cam=4,
    seed=0)
