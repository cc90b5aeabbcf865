# GSL (Sun, Zhao, Wu, ICIP 2021) as gsl_r50.py, on ResNet-18 (ImageNet init
# where it can be downloaded) for the CPU recipes: a 512-d global branch
# (instance memory, credible samples) and PAUL's patch branch, 6 patches of
# 256-d from a patch generator sized for ResNet-18's 512 channels. gsl_r50.py
# and configs/gsl/README.md say what each part is and where it comes from.
model = dict(
    type='GSL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(type='BNNeck', in_channels=512, pooling='avg'),
    patch_neck=dict(
        type='PatchNeck',
        in_channels=512,
        num_patches=6,
        out_channels=256,
        # Each patch is embedded by PAUL's pool + 1x1 conv + BN unless
        # `patch_embed` names another neck.
        generator=dict(
            type='PatchGenerator', hidden_channels=1024, fc_channels=256)),
    head=dict(
        type='GlobalSimilarityHead',
        memory=dict(type='InstanceMemory', feat_dim=512, momentum=0.5),
        selector=dict(
            type='CredibleSampleSelector',
            num_neighbours=8,
            rules=['reciprocal'],
            combine='any',
            threshold=0.6,
            warmup_epochs=0),
        loss=dict(
            type='MultiPositiveMemoryLoss',
            temperature=0.05,
            self_weight=1.0,
            neighbour_weight=1.0,
            neighbour_weighting='uniform',
            loss_weight=1.0)),
    patch_head=dict(
        type='PatchHead',
        num_patches=6,
        feat_dim=256,
        embed_dim=128,
        embedding_trainable=False,
        patch_momentum=0.9,
        agent_momentum=0.9,
        patch_loss=dict(
            type='PedalLoss', scale=15.0, num_neighbours=10, loss_weight=2.0),
        image_loss=dict(
            type='IPFLLoss',
            margin=2.0,
            max_candidates=15,
            nearest=3,
            loss_weight=1.0)),
    global_weight=None)  # 0.5 with both branches, 1 or 0 with one

custom_hooks = [
    dict(type='InstanceMemoryHook'),
    dict(type='MemoryMomentumHook'),
]
