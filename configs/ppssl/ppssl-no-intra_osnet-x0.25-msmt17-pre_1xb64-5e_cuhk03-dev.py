# PPSSL without its intra-similarity branch: no channel attention on the
# patches and no diversity loss.
_base_ = ['./ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(patch_neck=dict(attention=False), head=dict(intra_weight=0.0))
