"""End to end: GSL learns identities on a small synthetic set."""
import pytest

from learning_checks import LearningChecks
from mmreid_unsup.engine import build_runner
from protocol_synthetic import needs_protocol_weights, protocol_synthetic_cfg
from val_history import ValHistoryHook

pytestmark = pytest.mark.e2e


@needs_protocol_weights
def test_training_beats_the_untrained_model(e2e_synthetic_root, tmp_path,
                                            record_property):
    # The protocol recipe (MSMT17 OSNet-x0.25) at 128x64 for 5 x 10 iterations
    # of 16: each GSL step also encodes the image's patches, a step costs about
    # four of the other methods'. About 18 s on 2 cores with AVX2 kernels, 33 s
    # with default kernels. Thresholds about half the lowest value measured
    # (benchmarks/results/learning_margins_protocol.md: seeds 0-2 x kernels
    # native (AVX-512), avx2 and default (ONEDNN_MAX_CPU_ISA=AVX2), 9 runs,
    # 2026-12-07 on an AMD EPYC), as gains over the MSMT17 model training
    # starts from (mAP 13.3): mAP gain +3.1 to +9.1, credible precision 0.220
    # to 0.251 (chance: about 1 in 40). Rank-1 gained +2.1 to +8.5 (one query
    # is 2.1 points): with no room to spare it is recorded, not required. 10 x
    # 10 iterations (twice the time) gained +4.8 to +11.1 mAP and -2.1 to +12.8
    # rank-1 (learning_margins_protocol_gsl.md).
    cfg = protocol_synthetic_cfg(
        'gsl',
        e2e_synthetic_root,
        tmp_path,
        max_epochs=5,
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
    checks.gain('reid/mAP', before, after, 1.5)
    checks.record('reid/rank1 gain',
                  after['reid/rank1'] - before['reid/rank1'])
    # Every loss trained, and the credible samples are far above chance.
    scalars = runner.message_hub.log_scalars
    for key in ('loss_global', 'loss_patch', 'loss_image'):
        assert f'train/{key}' in scalars, key
    checks.above('credible precision',
                 scalars['train/credible_precision'].current(), 0.1)
    checks.verify()
