# Adapt the released MSMT17 OSNet-x0.25 to your own cameras, without labels:
# camera-centred Cluster-Contrast, the recipe of the fair CPU protocol, on a
# folder of unlabeled crops with one sub-folder per camera
# (CameraFolderDataset; docs/en/user_guides/finetune.md).
# - data: `data/my_cameras/<camera>/*.jpg` (set `crops_root` below or pass
#   --cfg-options train_dataloader.dataset.data_root=...
#   cluster_dataloader.dataset.data_root=...);
# - start: the model zoo entry osnet-x0.25_msmt17-torchreid (in the
#   repository, no download), so data/weights is not needed;
# - no validation during training (the crops have no identities); evaluate
#   the result with tools/test.py on a labelled query / gallery: the test set
#   here is CUHK03 dev, replace it with yours.
_base_ = ['./cluster-contrast_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

crops_root = 'data/my_cameras'
model = dict(backbone=dict(init_cfg=None), neck=dict(init_cfg=None))
load_from = 'zoo://osnet-x0.25_msmt17-torchreid'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CameraFolderDataset',
        data_root=crops_root,
        pipeline={{_base_.train_pipeline}}))
cluster_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CameraFolderDataset',
        data_root=crops_root,
        pipeline={{_base_.test_pipeline}},
        test_mode=True))
val_dataloader = None
val_cfg = None
val_evaluator = None

# The labeler of cluster-contrast-camera-centred_..._cuhk03-dev.py (each
# camera's mean feature removed before clustering), restated here so that
# this config stays two _base_ levels deep.
custom_hooks = [
    dict(
        type='ClusterRefreshHook',
        interval=1,
        labeler=dict(
            type='DBSCANLabeler',
            k1=30,
            k2=6,
            eps=0.6,
            min_samples=4,
            camera_centering=True)),
    dict(type='MemoryMomentumHook'),
]
