"""InstanceMemoryHook with SCL in a real (tiny) Runner: initialisation,
epochs, momentum updates, resume and load_from."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils import safe_torch_load
from tiny_scl import tiny_scl_cfg

MEMORIES = ('global_memory', 'local_memory', 'mixture_memory')


class _Probe(Hook):
    """Records the model's epoch and memories before each train epoch."""

    priority = 'LOWEST'

    def __init__(self):
        self.epochs = {}
        self.val_metrics = None

    def before_train_epoch(self, runner):
        head = runner.model.head
        self.epochs[runner.epoch] = dict(
            model_epoch=runner.model.epoch,
            camids=head.camids.clone(),
            **{name: getattr(head, name).bank.clone() for name in MEMORIES})

    def after_val_epoch(self, runner, metrics=None):
        self.val_metrics = dict(metrics)


def _run(cfg):
    runner = build_runner(cfg)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()
    return runner, probe


@pytest.mark.slow
def test_memories_initialised_once_and_updated(tiny_synthetic_root, tmp_path):
    runner, probe = _run(tiny_scl_cfg(tiny_synthetic_root, tmp_path))
    dataset = runner.train_dataloader.dataset
    num = len(dataset)
    first, second = probe.epochs[0], probe.epochs[1]
    assert [probe.epochs[e]['model_epoch'] for e in (0, 1)] == [0, 1]
    assert torch.equal(first['camids'],
                       torch.as_tensor(np.asarray(dataset.get_camids())))
    assert first['global_memory'].shape == (num, 128)
    assert first['local_memory'].shape == (num, 2, 64)
    torch.testing.assert_close(first['global_memory'].norm(dim=1),
                               torch.ones(num))
    assert torch.equal(first['mixture_memory'], torch.zeros(num, 128))
    # Epoch 1 continues from the updated memories (no re-initialisation):
    # the 32 images of epoch 0 moved their entries.
    moved = (second['global_memory'] != first['global_memory']).any(1)
    assert 0 < int(moved.sum()) <= 32
    trained = (second['mixture_memory'] != 0).any(1)
    assert torch.equal(trained, moved)  # warm-up: self-only positives
    # After the warm-up, neighbours' mixture entries move too.
    final = runner.model.head.mixture_memory.bank
    assert int((final != 0).any(1).sum()) > int(trained.sum())
    # Both protocols were evaluated; the neighbour statistics were logged.
    assert {'reid/mAP', 'scl/mAP', 'scl/rank1'} <= set(probe.val_metrics)
    hub = runner.message_hub
    assert 0 <= hub.get_scalar('train/pos_precision').current() <= 1
    assert 0 <= hub.get_scalar('train/pos_cross_camera').current() <= 1


@pytest.mark.slow
def test_resume_restores_memories(tiny_synthetic_root, tmp_path):
    work_dir = tmp_path / 'run'
    first, _ = _run(
        tiny_scl_cfg(tiny_synthetic_root, work_dir,
                     train_cfg=dict(max_epochs=1)))
    saved = {name: getattr(first.model.head, name).bank.clone()
             for name in MEMORIES}
    meta = safe_torch_load(work_dir / 'epoch_1.pth')['meta']
    assert meta['instance_memory']['num_samples'] == saved[
        'global_memory'].shape[0]
    resumed, probe = _run(
        tiny_scl_cfg(tiny_synthetic_root, work_dir,
                     train_cfg=dict(max_epochs=2), resume=True,
                     load_from=str(work_dir / 'epoch_1.pth')))
    assert list(probe.epochs) == [1]
    assert probe.epochs[1]['model_epoch'] == 1
    for name in MEMORIES:
        assert torch.equal(probe.epochs[1][name], saved[name]), name


@pytest.mark.slow
def test_load_from_gets_fresh_memories(tiny_synthetic_root, tmp_path):
    work_dir = tmp_path / 'run'
    _run(tiny_scl_cfg(tiny_synthetic_root, work_dir,
                      train_cfg=dict(max_epochs=1)))
    _, probe = _run(
        tiny_scl_cfg(tiny_synthetic_root, tmp_path / 'finetune',
                     train_cfg=dict(max_epochs=1),
                     load_from=str(work_dir / 'epoch_1.pth')))
    assert torch.equal(probe.epochs[0]['mixture_memory'],
                       torch.zeros_like(probe.epochs[0]['mixture_memory']))


def test_sampler_batch_size_mismatch_is_a_clear_error(tiny_synthetic_root,
                                                      tmp_path):
    cfg = tiny_scl_cfg(
        tiny_synthetic_root, tmp_path,
        train_dataloader=dict(sampler=dict(batch_size=4)))
    with pytest.raises(ValueError, match='sampler.batch_size=4'):
        build_runner(cfg).train()


@pytest.mark.slow
def test_resume_on_a_changed_training_set_refills_memories(
        tiny_synthetic_root, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(tiny_synthetic_root, root)
    work_dir = tmp_path / 'run'
    first, _ = _run(
        tiny_scl_cfg(root, work_dir, train_cfg=dict(max_epochs=1)))
    saved = first.model.head.mixture_memory.bank.clone()
    assert (saved != 0).any()  # trained entries

    # One training image replaced by another file: same count, other list.
    folder = root / 'bounding_box_train'
    image = sorted(folder.glob('*.jpg'))[0]
    image.rename(folder / image.name.replace('_00.jpg', '_09.jpg'))
    resumed, probe = _run(
        tiny_scl_cfg(root, work_dir, train_cfg=dict(max_epochs=2),
                     resume=True, load_from=str(work_dir / 'epoch_1.pth')))
    # Filled afresh: the mixture memory starts from zeros again.
    assert list(probe.epochs) == [1]
    assert torch.equal(probe.epochs[1]['mixture_memory'],
                       torch.zeros_like(saved))
    log = next(Path(resumed.log_dir).glob('*.log')).read_text()
    assert 'not reusing the instance memories' in log
