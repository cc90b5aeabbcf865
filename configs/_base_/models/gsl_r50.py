# GSL (Sun, Zhao, Wu, ICIP 2021): ResNet-50 with last stride 1 and two
# branches on its layer4 map. No code or full text of the paper was found:
# the patch branch is PAUL's public code (QizeYang/PAUL), the global branch
# an interpretation of the abstract (configs/gsl/README.md says which is
# which).
# - global: average pool + BN, L2-normalised 2048-d; an instance memory
#   (momentum 0.5) as non-parametric classifier, softmax at temperature 0.05
#   over all images; the loss pulls each image to its own entry and its
#   credible samples: of its 8 nearest entries, the k-reciprocal ones.
# - patch (PAUL): 6 patches from an affine patch generator (equal horizontal
#   stripes at initialisation), each pooled and embedded to 256-d; PEDAL
#   against a patch memory (top 10, scale 15, momentum 0.9), weight 2; IPFL
#   against image agents (128 random directions per patch, cycle ranking,
#   margin 2), weight 1.
# The retrieval embedding mixes the global and mean patch cosines 1:1.
model = dict(
    type='GSL',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='ReIDResNet',
        depth=50,
        last_stride=1,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='BNNeck', in_channels=2048, pooling='avg'),
    patch_neck=dict(
        type='PatchNeck',
        in_channels=2048,
        num_patches=6,
        out_channels=256,
        # Each patch is embedded by PAUL's pool + 1x1 conv + BN unless
        # `patch_embed` names another neck.
        generator=dict(
            type='PatchGenerator', hidden_channels=4096, fc_channels=512)),
    head=dict(
        type='GlobalSimilarityHead',
        memory=dict(type='InstanceMemory', feat_dim=2048, momentum=0.5),
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
