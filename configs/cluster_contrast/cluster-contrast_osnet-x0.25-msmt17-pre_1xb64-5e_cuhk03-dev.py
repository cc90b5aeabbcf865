# Cluster-Contrast under the fair CPU protocol: the MSMT17 OSNet-x0.25
# adapted without labels to the CUHK03 crops (the cross-domain use case).
# Everything but the method is the protocol's.
_base_ = [
    '../_base_/models/cluster_contrast_r50.py',
    '../_base_/protocols/cpu_cuhk03-dev_osnet-x0.25-msmt17.py',
]

model = dict(
    data_preprocessor={{_base_.protocol_data_preprocessor}},
    backbone={{_base_.protocol_backbone}},
    neck={{_base_.protocol_neck}},
    head=dict(memory=dict(feat_dim={{_base_.protocol_feat_dim}})))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))
