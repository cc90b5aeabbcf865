"""End to end: SCL learns identities on a small synthetic set."""
import pytest

from learning_checks import LearningChecks
from mmreid_unsup.engine import build_runner
from protocol_synthetic import needs_protocol_weights, protocol_synthetic_cfg
from val_history import ValHistoryHook

pytestmark = pytest.mark.e2e


@needs_protocol_weights
def test_training_beats_the_untrained_model(e2e_synthetic_root, tmp_path,
                                            record_property):
    # The protocol recipe (MSMT17 OSNet-x0.25, camera-centred selection from
    # the first epoch) at 128x64 for 10 x 10 iterations of 16: about 18 s on 2
    # cores with AVX2 kernels, 29 s with default kernels. Thresholds about half
    # the lowest value measured
    # (benchmarks/results/learning_margins_protocol.md: seeds 0-2 x kernels
    # native (AVX-512), avx2 and default (ONEDNN_MAX_CPU_ISA=AVX2), 9 runs,
    # 2026-12-07 on an AMD EPYC), as gains over the MSMT17 model training
    # starts from (mAP 12.8): mAP gain +8.2 to +33.9 ('reid'), +9.5 to +33.7
    # ('scl'). Rank-1 gained -2.1 to +38.3 ('reid') and 0.0 to +38.3 ('scl'):
    # with no room to spare it is recorded, not required.
    cfg = protocol_synthetic_cfg(
        'scl',
        e2e_synthetic_root,
        tmp_path,
        max_epochs=10,
        iters_per_epoch=10,
        batch_size=16)
    runner = build_runner(cfg)
    metrics = ValHistoryHook()
    runner.register_hook(metrics)
    before = runner.val()  # the loaded MSMT17 model (ReIDRunner.val)
    runner.train()
    after = metrics.history[-1]
    checks = LearningChecks(record_property)
    checks.record('reid/mAP before', before['reid/mAP'])
    for protocol in ('reid', 'scl'):
        checks.gain(f'{protocol}/mAP', before, after, 4)
        checks.record(f'{protocol}/rank1 gain',
                      after[f'{protocol}/rank1'] - before[f'{protocol}/rank1'])
    checks.verify()
