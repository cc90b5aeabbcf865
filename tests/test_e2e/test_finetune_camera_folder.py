"""The fine-tuning story: the released OSNet adapted without labels to a
folder of unlabeled crops (one folder per camera), then evaluated."""
import os
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import REPO_ROOT, load_script

pytestmark = pytest.mark.e2e

CONFIG = (REPO_ROOT / 'configs' / 'cluster_contrast' /
          'cluster-contrast-camera-centred_osnet-x0.25-msmt17-zoo_1xb64-5e_'
          'camera-folder.py')
RELEASED = (REPO_ROOT / 'model_zoo' / 'checkpoints' /
            'osnet-x0.25_msmt17-torchreid.pth')


def camera_folders(market_root, out):
    """The synthetic training crops sorted by camera, names kept."""
    for name in os.listdir(market_root / 'bounding_box_train'):
        cam = re.match(r'\d+_c(\d+)', name).group(1)
        (out / f'cam{cam}').mkdir(parents=True, exist_ok=True)
        os.symlink(market_root / 'bounding_box_train' / name,
                   out / f'cam{cam}' / name)
    return out


def finetune_options(crops, work_dir):
    """The config's run shrunk to seconds on the synthetic crops."""
    return {
        'work_dir': str(work_dir),
        'train_dataloader.dataset.data_root': str(crops),
        'cluster_dataloader.dataset.data_root': str(crops),
        'train_dataloader.batch_size': 16,
        'train_dataloader.sampler.batch_size': 16,
        'train_dataloader.sampler.iters_per_epoch': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'cluster_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 1,
    }


def synthetic_test_config(market_root, path):
    """The config, evaluated on the synthetic query / gallery instead of
    CUHK03 dev (as a user puts a labelled set of theirs)."""
    path.write_text(f"""_base_ = [{str(CONFIG)!r}]
test_dataloader = dict(
    num_workers=0,
    dataset=dict(_delete_=True, type='SyntheticReID',
                 data_root={str(market_root)!r}, split='test',
                 test_mode=True, pipeline={{{{_base_.test_pipeline}}}}))
""")
    return path


class _StartProbe(Hook):
    """The backbone as training starts, and the refresh's scalars."""

    def before_train(self, runner):
        self.start = {
            k: v.clone()
            for k, v in runner.model.state_dict().items()
            if k.startswith(('backbone.', 'neck.'))
        }

    def after_train_epoch(self, runner):
        self.scalars = set(runner.message_hub.log_scalars)


def test_released_model_adapts_to_a_camera_folder(tiny_synthetic_root,
                                                  tmp_path):
    crops = camera_folders(tiny_synthetic_root, tmp_path / 'my_cameras')
    cfg = Config.fromfile(str(CONFIG))
    cfg.merge_from_dict(finetune_options(crops, tmp_path / 'work'))
    runner = build_runner(cfg)
    probe = _StartProbe()
    runner.register_hook(probe)
    runner.train()

    released = safe_torch_load(str(RELEASED))['state_dict']
    for key, value in probe.start.items():  # starts from the zoo entry
        torch.testing.assert_close(value, released[key], msg=key)
    assert runner.train_dataloader.dataset.metainfo['camera_names'] == [
        'cam1', 'cam2', 'cam3'
    ]
    # Pseudo labels were found; no true ids, so no ARI is claimed.
    assert int(runner.model.pseudo_labels.max()) >= 0
    assert 'train/pseudo_ari' not in probe.scalars
    ckpt = tmp_path / 'work' / 'epoch_1.pth'
    trained = safe_torch_load(str(ckpt))['state_dict']
    assert any(not torch.equal(trained[k], released[k])
               for k in probe.start if trained[k].is_floating_point())

    tool = load_script(REPO_ROOT / 'tools' / 'test.py',
                       'reid_test_tool_finetune',
                       import_root=REPO_ROOT / 'tools')
    metrics = tool.main([
        str(synthetic_test_config(tiny_synthetic_root, tmp_path / 'eval.py')),
        str(ckpt), '--work-dir', str(tmp_path / 'test')
    ])
    assert 0 < metrics['reid/mAP'] <= 100
