# The schedule of the instance-level demos (GSL, PPSSL): Cluster-Contrast's
# Adam 3.5e-4, weight decay 5e-4, over 30 epochs, lr x0.1 at epoch 24.
# Evaluation runs once, after the last epoch: reported numbers are
# last-epoch numbers.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
param_scheduler = [dict(type='MultiStepLR', milestones=[24], gamma=0.1)]
# Resumable: --resume from a mid-epoch checkpoint continues that epoch.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=30, val_interval=30)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
