"""End to end: SCL learns identities on a small synthetic set."""
import pytest
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tiny_scl import tiny_scl_cfg


class _ValMetrics(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.history = []

    def after_val_epoch(self, runner, metrics=None):
        self.history.append(dict(metrics))


@pytest.fixture(scope='module')
def e2e_root(tmp_path_factory):
    from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
    root = tmp_path_factory.mktemp('e2e_scl_synthetic')
    generate_synthetic_reid(
        str(root),
        num_train_ids=40,
        num_test_ids=20,
        num_cams=3,
        images_per_id_per_cam=4,
        seed=1,
        img_size=(64, 32),
        progress=False)
    return root


def test_training_beats_the_untrained_model(e2e_root, tmp_path):
    cfg = tiny_scl_cfg(
        e2e_root,
        tmp_path,
        model=dict(
            head=dict(
                # The synthetic cameras shift colours strongly: without a
                # larger camera term than the reference's 0.05 the selected
                # neighbours stay in the anchor's camera.
                selector=dict(
                    num_positives=3,
                    num_negatives=100,
                    lambda_c=0.5,
                    warmup_epochs=2))),
        train_dataloader=dict(
            batch_size=32, sampler=dict(batch_size=32, iters_per_epoch=15)),
        train_cfg=dict(max_epochs=10, val_interval=10))
    runner = Runner.from_cfg(cfg)
    metrics = _ValMetrics()
    runner.register_hook(metrics)
    before = runner.val()
    runner.train()
    after = metrics.history[-1]
    for protocol in ('reid', 'scl'):
        assert after[f'{protocol}/mAP'] > before[f'{protocol}/mAP'] + 5, (
            before, after)
        assert after[f'{protocol}/rank1'] > before[f'{protocol}/rank1'], (
            before, after)
