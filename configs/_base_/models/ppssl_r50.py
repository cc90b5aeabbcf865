# PPSSL (Wu et al., IEEE TIP 2022) as this toolbox reads it; the paper's text
# and code are not available, see configs/ppssl/README.md for what is verified
# (the abstract) and what is interpreted. ResNet-50 with last stride 1; a
# global embedding (GeM + BN, 2048-d) and 6 horizontal patches with their own
# channel attention (256-d each). No clustering: stage A (the first 5 epochs)
# trains patch surrogate classes (every patch of every image its own class in
# a per-patch instance memory); from epoch 5 (stage B) each image's pseudo
# partners, found every epoch by the largest drop of its sorted similarity
# curve (mutual partners only, at most 3), are positives too, and an
# alignment module (non-local block + deformable convolution) pulls
# partners' patches together across images. Memories move by momentum 0.5.
# The pair search lowers same-camera similarities by 0.05 (SCL's lambda_c, an
# addition of this toolbox): without it 99% of the pairs found on the CUHK03
# crops by the MSMT17 OSNet are same-camera pairs (configs/ppssl/README.md).
model = dict(
    type='PPSSL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=50,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='BNNeck', in_channels=2048, pooling='gem'),
    patch_neck=dict(
        type='PatchAttentionNeck',
        in_channels=2048,
        num_patches=6,
        patch_channels=256,
        reduction=16),
    global_weight=0.5,
    head=dict(
        type='PPSSLHead',
        patch_memory=dict(
            type='InstanceMemory', feat_dim=256, num_parts=6, momentum=0.5),
        global_memory=dict(type='InstanceMemory', feat_dim=2048, momentum=0.5),
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
            in_channels=2048,
            channels=256,
            num_patches=6),
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
