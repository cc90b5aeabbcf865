# GRACL from scratch on the embedded synthetic set at 64x32, one process on
# CPU: the Cluster-Contrast demo (10 x 40 iterations, camera-centred
# clustering) with the GRACL head. GRACLHead's defaults are the head of
# configs/_base_/models/gracl_r50.py (inter- and intra-ID proxy memories,
# momentum 0.1, 'hard' updates, InfoNCE at temperature 0.05).
_base_ = [
    '../cluster_contrast/cluster-contrast_r18_1xb32-10e_synthetic-demo.py'
]

model = dict(
    type='GRACL', head=dict(_delete_=True, type='GRACLHead', feat_dim=512))
