# SCL's schedule (reid-strong-baseline solver): SGD with Nesterov momentum
# 0.9, lr 1e-3, weight decay 5e-4 (biases included), 50 epochs. The reference
# steps the lr at epoch 200 of 50, so it is constant. Evaluation runs once,
# after the last epoch: reported numbers are last-epoch numbers.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=1e-3, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = []
# Resumable: --resume from a mid-epoch checkpoint continues that epoch.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=50, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
