# The tiny synthetic recipe with GRACL's head instead of Cluster-Contrast's.
_base_ = ['./tiny_synthetic.py']

model = dict(
    type='GRACL', head=dict(_delete_=True, type='GRACLHead', feat_dim=128))
