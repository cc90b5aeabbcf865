# GRACL, paper-scale recipe on MSMT17: 400 iterations per epoch. The
# inter-ID selection compares every clustered sample with every other
# (about 32k x 32k similarities, in blocks of 1024 rows) once per epoch on
# rank 0; relation='centroid' is the cheap alternative.
_base_ = [
    '../_base_/models/gracl_r50.py',
    '../_base_/datasets/msmt17.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(sampler=dict(num_instances=16, iters_per_epoch=400))
