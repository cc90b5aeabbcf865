# The tiny synthetic recipe on the demo's ResNet-18 (untrained, 512-d
# features), for the tests that need a second architecture (a checkpoint of
# one loaded into the other, ResNet's own config keys and layers).
_base_ = ['./tiny_synthetic.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ReIDResNet',
        depth=18,
        last_stride=1,
        init_cfg=None),
    neck=dict(_delete_=True, type='BNNeck', in_channels=512, pooling='gem'))
