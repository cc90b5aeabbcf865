# The starting model of the fair CPU protocol, as released by torchreid: the
# MSMT17-trained OSNet-x0.25 (backbone + its 512-d fc embedding), converted
# with tools/model_converters/torchreid2mmreid.py and evaluated without any
# adaptation on the CUHK03 dev query / gallery ("direct transfer"). Every
# protocol config starts from these weights; `init_cfg` reads torchreid's file
# from data/weights as they do, and the model zoo entry
# osnet-x0.25_msmt17-torchreid is the converted copy in the repository.
_base_ = ['../_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-msmt17.py']

# = the protocol's backbone and neck (whose `_delete_` needs a base model).
model = dict(
    type='BaseReIDModel',
    data_preprocessor=dict(type='ReIDDataPreprocessor'),
    backbone=dict(
        type='OSNet',
        arch='x0_25',
        init_cfg=dict(
            type='Pretrained', checkpoint={{_base_.protocol_weights}})),
    neck=dict(
        type='OSNetFCNeck',
        in_channels=128,
        out_channels={{_base_.protocol_feat_dim}},
        init_cfg=dict(
            type='Pretrained', checkpoint={{_base_.protocol_weights}})))
# Evaluation only: adapting it is what the method configs do.
train_dataloader = None
train_cfg = None
param_scheduler = None
