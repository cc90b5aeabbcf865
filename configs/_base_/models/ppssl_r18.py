# PPSSL (Wu et al., IEEE TIP 2022) as ppssl_r50.py, on ResNet-18 (ImageNet
# init where it can be downloaded) for the CPU inputs (128x64 and 64x32): the
# 8x4 or 4x2 map of ResNet-18 gives 4 horizontal patches of 128-d, each with
# its own channel attention, beside the 512-d global embedding (GeM + BN).
# Stage A (the first 5 epochs) trains patch surrogate classes, stage B adds
# each image's pseudo partners and the cross-image alignment; memories move
# by momentum 0.5. ppssl_r50.py and configs/ppssl/README.md say what is
# verified and what is interpreted.
model = dict(
    type='PPSSL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(type='BNNeck', in_channels=512, pooling='gem'),
    patch_neck=dict(
        type='PatchAttentionNeck',
        in_channels=512,
        num_patches=4,
        patch_channels=128,
        reduction=16),
    global_weight=0.5,
    head=dict(
        type='PPSSLHead',
        patch_memory=dict(
            type='InstanceMemory', feat_dim=128, num_parts=4, momentum=0.5),
        global_memory=dict(type='InstanceMemory', feat_dim=512, momentum=0.5),
        # -log p(self) - mean over partners of -log p(partner), at 0.05.
        patch_loss=dict(
            type='MultiPositiveMemoryLoss',
            temperature=0.05,
            self_weight=1.0,
            neighbour_weight=1.0),
        global_loss=dict(
            type='MultiPositiveMemoryLoss',
            temperature=0.05,
            self_weight=1.0,
            neighbour_weight=1.0),
        alignment=dict(
            type='CrossImageAlignment',
            in_channels=512,
            channels=128,
            num_patches=4),
        pair_start_epoch=5,
        intra_weight=0.1,  # lambda_1, diversity of the attended patches
        inter_weight=0.5,  # lambda_2, aligned pair similarity
        inter_margin=0.3))

custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='PseudoPairLabeler',
            max_partners=3,
            search_depth=20,
            curve='similarity',
            reciprocal=True,
            camera_penalty=0.05)),
    dict(type='MemoryMomentumHook'),
]
