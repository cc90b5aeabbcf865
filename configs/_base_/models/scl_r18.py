# SCL (Pang et al., TOMM 2022) as scl_r50.py, on ResNet-18 (ImageNet init
# where it can be downloaded) for the CPU recipes, in SCL's proportions on
# 512 channels: a 512-d global and 8 stripe (64-d) embeddings, each
# L2-normalised. Each image takes its 7 nearest memory entries as positives
# and the next 500 as negatives (lambda_g 0.5, +0.05 for the same camera),
# after 3 warm-up epochs; multi-positive softmax at temperature 0.1 against
# a mixture memory; memories move by momentum 0.5 (scl_r50.py says more).
model = dict(
    type='SCL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(
        type='GlobalStripeNeck',
        in_channels=512,
        global_channels=512,
        num_stripes=8,
        stripe_channels=64),
    head=dict(
        type='SCLHead',
        global_memory=dict(type='InstanceMemory', feat_dim=512, momentum=0.5),
        local_memory=dict(
            type='InstanceMemory', feat_dim=64, num_parts=8, momentum=0.5),
        mixture_memory=dict(
            type='InstanceMemory', feat_dim=512, momentum=0.5, init='zeros'),
        selector=dict(
            type='NeighbourSelector',
            num_positives=7,
            num_negatives=500,
            lambda_g=0.5,
            lambda_c=0.05,
            warmup_epochs=3),
        # self_weight = lambda_t; neighbour_weight = alpha * (1 - lambda_t)
        # with alpha 1.75, i.e. 0.125 for each of the 7 neighbours.
        loss=dict(
            type='MultiPositiveMemoryLoss',
            temperature=0.1,
            self_weight=0.5,
            neighbour_weight=0.875),
        local_loss_weight=0.3))  # lambda_p

custom_hooks = [
    dict(type='InstanceMemoryHook'),
    dict(type='MemoryMomentumHook'),
]

