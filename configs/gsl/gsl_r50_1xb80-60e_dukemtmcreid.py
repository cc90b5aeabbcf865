# GSL on DukeMTMC-reID (see the Market-1501 recipe): PAUL's Duke settings,
# 40 images (80 with their copies) per batch and PEDAL scale 5.
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/datasets/dukemtmcreid_384x128_two-view.py',
    '../_base_/schedules/adam_3.5e-4_60e.py',
    '../_base_/default_runtime.py',
]

model = dict(patch_head=dict(patch_loss=dict(scale=5.0)))
