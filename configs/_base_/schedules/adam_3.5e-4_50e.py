# Cluster-Contrast's schedule: Adam 3.5e-4, weight decay 5e-4, lr x0.1 at
# epoch 20, 50 epochs. Evaluation runs once, after the last epoch: reported
# numbers are last-epoch numbers.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20], gamma=0.1)
]
# Resumable: --resume from a mid-epoch checkpoint continues that epoch.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=50, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
