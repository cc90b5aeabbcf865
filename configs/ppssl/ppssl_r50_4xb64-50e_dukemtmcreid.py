# PPSSL, paper-scale recipe on DukeMTMC-reID: ResNet-50 (ImageNet), 256x128,
# 4 GPUs x 64 images (groups of an anchor and up to 3 pseudo partners),
# Adam 3.5e-4, 50 epochs of 200 iterations: 5 surrogate-class epochs, then
# pseudo pairs. The paper's own schedule is unknown (configs/ppssl/README.md).
_base_ = [
    '../_base_/models/ppssl_r50.py',
    '../_base_/datasets/dukemtmcreid.py',
    '../_base_/schedules/adam_3.5e-4_50e.py',
    '../_base_/default_runtime.py',
]

# Batches of anchors with their pseudo partners (the identity sampler's
# batch, iterations and group size).
train_dataloader = dict(sampler=dict(type='PseudoPairSampler'))
