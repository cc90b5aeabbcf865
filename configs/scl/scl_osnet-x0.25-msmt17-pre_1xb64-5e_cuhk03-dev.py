# SCL under the fair CPU protocol: the MSMT17 OSNet-x0.25 adapted without
# labels to the CUHK03 crops. Everything but the method is the protocol's.
# SCL's global + stripe embedding replaces OSNet's fc (so it starts from a
# random projection of the pretrained backbone's map), its instance sampler
# replaces the identity sampler, and one warm-up epoch replaces three: the
# start is already a re-ID model, whose neighbours are worth using at once.
_base_ = [
    '../_base_/models/scl_r50.py',
    '../_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-msmt17.py',
]

model = dict(
    backbone={{_base_.protocol_backbone}},
    neck=dict(in_channels=128, global_channels=512, stripe_channels=64),
    head=dict(
        global_memory=dict(feat_dim=512),
        local_memory=dict(feat_dim=64),
        mixture_memory=dict(feat_dim=512),
        selector=dict(warmup_epochs=1)))
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=64,
        iters_per_epoch=60))
# The reference's SGD at 8x its batch of 8, as in the ResNet-18 CPU recipe.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=8e-3, momentum=0.9, nesterov=True, weight_decay=5e-4))
# The common protocol (reid/*, what the comparison reads) and SCL's own test
# distance (scl/*) side by side.
val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.05),
]
test_evaluator = val_evaluator
