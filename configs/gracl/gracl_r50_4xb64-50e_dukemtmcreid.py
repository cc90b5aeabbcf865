# GRACL, paper-scale recipe on DukeMTMC-reID (see the Market-1501 one).
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/datasets/dukemtmcreid.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(sampler=dict(num_instances=16, iters_per_epoch=200))
