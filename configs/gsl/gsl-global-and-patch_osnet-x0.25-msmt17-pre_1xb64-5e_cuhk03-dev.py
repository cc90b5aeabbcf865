# GSL with both of its branches under the fair CPU protocol: the MSMT17
# OSNet-x0.25 adapted without labels to the CUHK03 crops. The tuned protocol
# recipe, gsl_osnet-..., is this without the patch branch (on the held-out
# validation identities the patch branch cost 2.8 mAP); this config is its
# ablation "+ patch branch". Everything but the method is the protocol's:
# - the global branch is the protocol's pretrained OSNet fc (512-d), so GSL
#   starts from the model it adapts;
# - each of the 6 patches is embedded by its own copy of that fc, also
#   initialised from the MSMT17 weights;
# - a batch is 32 images and their PAUL copies: the protocol's 64 images per
#   iteration and BatchNorm batch, drawn by the instance sampler (GSL has no
#   pseudo identities); view 0 keeps the protocol's augmentation;
# - Adam 3.5e-4, constant (the protocol's Cluster-Contrast optimiser), with
#   the patch generator frozen (lr 0) as in PAUL's unsupervised stage: the
#   patches stay the 6 equal horizontal stripes the generator starts with;
# - credible samples: each image's 4 nearest memory entries of the other
#   cameras, on camera-centred memories (the selectors' `camera_centering`
#   and `cross_camera`, this toolbox's camera-aware options). Chosen on the
#   held-out validation identities (benchmarks/results/tuning/gsl.md,
#   configs/gsl/README.md), global branch alone: k-reciprocal among the 8
#   nearest 29.03 -> camera-centred 30.85 -> plain 8 nearest 34.23 -> 4
#   nearest of other cameras 40.74 mAP (epoch 0: 31.08);
# - a softer instance term (temperature 0.1, the image's own entry at weight
#   0.5, as PPSSL's tuned recipe): 40.74 -> 42.21 val mAP (8 credible samples
#   instead of 4 with it: 41.55).
_base_ = [
    '../_base_/models/gsl_r50.py',
    '../_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-msmt17.py',
]

model = dict(
    data_preprocessor={{_base_.protocol_data_preprocessor}},
    backbone={{_base_.protocol_backbone}},
    neck={{_base_.protocol_neck}},
    patch_neck=dict(
        in_channels=128,
        out_channels={{_base_.protocol_feat_dim}},
        generator=dict(hidden_channels=256, fc_channels=128),
        patch_embed=dict(
            type='OSNetFCNeck',
            in_channels=128,
            out_channels={{_base_.protocol_feat_dim}},
            init_cfg=dict(
                type='Pretrained',
                checkpoint={{_base_.protocol_weights}}))),
    head=dict(
        memory=dict(feat_dim={{_base_.protocol_feat_dim}}),
        selector=dict(
            num_neighbours=4,
            rules=[],
            camera_centering=True,
            cross_camera=True),
        loss=dict(temperature=0.1, self_weight=0.5)),
    patch_head=dict(feat_dim={{_base_.protocol_feat_dim}}))

# View 0: the protocol's augmentation; view 1: PAUL's copy, as in the GSL
# dataset bases (../_base_/datasets/*two-view.py). The protocol holds its
# own data, so the two views of its GSL configs are stated here, once.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        views=[
            [
                dict(
                    type='Resize',
                    scale=(128, 256),
                    interpolation='bilinear',
                    backend='pillow'),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='RandomCrop', size=(256, 128), padding=10),
                dict(type='RandomErasing', prob=0.5),
                dict(type='PackReIDInputs'),
            ],
            [
                dict(
                    type='TorchVisionTransform',
                    name='ColorJitter',
                    brightness=0.2,
                    contrast=0.2,
                    saturation=0.2,
                    hue=0.1),
                dict(type='TorchVisionTransform', name='RandomRotation',
                     degrees=10),
                dict(
                    type='TorchVisionTransform',
                    name='RandomResizedCrop',
                    size=(256, 128),
                    scale=(0.7, 0.95),
                    ratio=(0.35, 0.72)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackReIDInputs'),
            ],
        ]),
]
# The sampler makes the loader's batches: both read the one size (a name
# that starts with __ is left out of the merged config).
__batch_size = 32
train_dataloader = dict(
    batch_size=__batch_size,
    sampler=dict(
        _delete_=True,
        type='RandomInstanceSampler',
        batch_size=__batch_size,
        iters_per_epoch={{_base_.train_dataloader.sampler.iters_per_epoch}}),
    dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4),
    paramwise_cfg=dict(
        custom_keys={'patch_neck.generator': dict(lr_mult=0.)}))
