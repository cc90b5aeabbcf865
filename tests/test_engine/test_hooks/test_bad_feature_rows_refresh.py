"""Non-finite and zero features through a real refresh: the model's L2
normalisation, ClusterRefreshHook, the DBSCAN labeler and the memory.

A forward hook on the neck spoils the embedding of the first two images of
every extraction batch (before ``F.normalize``): a NaN element in the
first, zeros in the second.
"""
from pathlib import Path

import torch
import torch.nn.functional as F

from mmreid_unsup.engine import build_runner
from tiny_cluster_contrast import tiny_cfg


def _spoil_extraction(module, inputs, output):
    if module.training or output.shape[0] < 2:
        return output
    output = output.clone()
    output[0, 0] = float('nan')
    output[1] = 0
    return output


def test_l2_normalisation_keeps_zero_rows_zero_and_nan_rows_nan():
    rows = F.normalize(torch.tensor([[0.0, 0.0], [float('nan'), 1.0]]), dim=1)
    assert rows[0].tolist() == [0.0, 0.0]
    assert torch.isnan(rows[1]).all()


def test_refresh_counts_bad_rows_makes_them_outliers_and_keeps_memory_finite(
        tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(
        tiny_synthetic_root,
        tmp_path,
        train_cfg=dict(max_epochs=1),
        experiment_name='bad_feature_rows')
    cfg.merge_from_dict(
        dict(train_dataloader=dict(sampler=dict(iters_per_epoch=1))))
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = build_runner(cfg)
    runner.model.neck.register_forward_hook(_spoil_extraction)
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'ClusterRefreshHook')
    loader = hook._get_dataloader(runner)
    batch_size = loader.batch_size
    num = len(loader.dataset)
    starts = list(range(0, num, batch_size))
    labels = hook.refresh(runner)

    hub = runner.message_hub
    assert hub.get_scalar('train/pseudo_nonfinite_rows').current() == \
        len(starts)
    assert hub.get_scalar('train/pseudo_zero_rows').current() == len(starts)
    nan_rows = starts
    zero_rows = [s + 1 for s in starts]
    assert (labels[nan_rows + zero_rows] == -1).all()
    assert int(labels.max()) >= 0, 'the good rows still cluster'
    assert torch.isfinite(runner.model.head.memory.bank).all()
    text = next(Path(runner.log_dir).glob('*.log')).read_text()
    assert (f'{2 * len(starts)} of {num} feature rows cannot be labelled: '
            f'{len(starts)} have a NaN or Inf element (rows '
            f'{", ".join(map(str, nan_rows[:5]))}') in text
    assert ('extracted feature rows cannot be labelled' in text
            and 'the memories are initialised with the non-finite rows set '
            'to zero' in text)
    assert f'nonfinite_rows={len(starts)}' in text


def test_clean_refresh_logs_zero_counts(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(
        tiny_synthetic_root,
        tmp_path,
        train_cfg=dict(max_epochs=1),
        experiment_name='clean_feature_rows')
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = build_runner(cfg)
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'ClusterRefreshHook')
    hook.refresh(runner)
    hub = runner.message_hub
    assert hub.get_scalar('train/pseudo_nonfinite_rows').current() == 0
    assert hub.get_scalar('train/pseudo_zero_rows').current() == 0
