# GSL on Market-1501 at paper scale: ResNet-50 (ImageNet), PAUL's data side
# (384x128; 42 images per batch, each with an augmented copy: 84 images per
# BatchNorm batch; one shuffled pass per epoch; 60 epochs, lr x0.1 at 50).
# Adam 3.5e-4 (SpCL's memory-classifier optimiser) replaces PAUL's SGD 1e-4,
# a fine-tuning rate for PAUL's labelled MSMT17 start: GSL starts from
# ImageNet (interpreted, configs/gsl/README.md).
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/datasets/market1501_384x128_two-view.py',
    '../_base_/schedules/adam_3.5e-4_60e.py',
    '../_base_/default_runtime.py',
]
