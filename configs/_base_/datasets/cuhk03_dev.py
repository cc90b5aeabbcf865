# The CUHK03 development protocol (cuhk03_dev_sets.py) at 128x64, the CPU
# input size.
_base_ = ['./reid_128x64.py', './cuhk03_dev_sets.py']

train_set = {{_base_.cuhk03_dev_train}}
test_set = {{_base_.cuhk03_dev_test}}
train_dataloader = dict(dataset=train_set)
cluster_dataloader = dict(dataset=train_set)
val_dataloader = dict(dataset=test_set)
test_dataloader = dict(dataset=test_set)
