# SCL (Pang et al., TOMM 2022), official code pangbo1997/Unsup_ReID: ResNet-50
# with last stride 1; a global (2048-d) and 8 stripe (256-d) embeddings, each
# L2-normalised. No clustering: at every iteration each image takes its 7
# nearest memory entries as positives and the next 500 as negatives (global /
# stripe distance mixed with lambda_g 0.5, +0.05 for the same camera), after
# 3 warm-up epochs of self-only positives and random negatives. The loss is a
# multi-positive softmax at temperature 0.1 against a mixture memory; all three
# memories move by momentum 0.5 after each optimizer step.
model = dict(
    type='SCL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=50,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='GlobalStripeNeck',
        in_channels=2048,
        global_channels=2048,
        num_stripes=8,
        stripe_channels=256),
    head=dict(
        type='SCLHead',
        global_memory=dict(type='InstanceMemory', feat_dim=2048, momentum=0.5),
        local_memory=dict(
            type='InstanceMemory', feat_dim=256, num_parts=8, momentum=0.5),
        mixture_memory=dict(
            type='InstanceMemory', feat_dim=2048, momentum=0.5, init='zeros'),
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

