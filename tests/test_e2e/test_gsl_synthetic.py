"""End to end: GSL learns identities on a small synthetic set."""
import pytest
from mmengine.runner import Runner

from tiny_gsl import tiny_gsl_cfg
from val_history import ValHistoryHook

pytestmark = pytest.mark.e2e


def test_training_beats_the_untrained_model(e2e_synthetic_root, tmp_path):
    cfg = tiny_gsl_cfg(
        e2e_synthetic_root,
        tmp_path,
        model=dict(
            head=dict(
                # The synthetic cameras differ in background and colour: as
                # for SCL, a camera penalty makes the credible samples
                # cross-camera (without it they are same-camera look-alikes).
                selector=dict(camera_penalty=0.5))),
        train_dataloader=dict(
            batch_size=16, sampler=dict(batch_size=16, iters_per_epoch=15)),
        train_cfg=dict(max_epochs=10, val_interval=10))
    runner = Runner.from_cfg(cfg)
    metrics = ValHistoryHook()
    runner.register_hook(metrics)
    before = runner.val()
    runner.train()
    after = metrics.history[-1]
    assert after['reid/mAP'] > before['reid/mAP'] + 4, (before, after)
    assert after['reid/rank1'] > before['reid/rank1'], (before, after)
    # Every loss trained, and the credible samples are mostly right.
    scalars = runner.message_hub.log_scalars
    for key in ('loss_global', 'loss_patch', 'loss_image'):
        assert f'train/{key}' in scalars, key
    assert scalars['train/credible_precision'].current() > 0.2
