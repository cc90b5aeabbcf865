# GSL's paper-scale schedule: PAUL's 60 epochs with lr x0.1 at epoch 50, with
# Adam 3.5e-4, weight decay 5e-4 (SpCL's memory-classifier optimiser) in
# place of PAUL's SGD 1e-4, a fine-tuning rate for PAUL's labelled MSMT17
# start (configs/gsl/README.md). Evaluation runs once, after the last epoch.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[50], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=60)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
