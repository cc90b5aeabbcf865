"""ClusterRefreshHook and MemoryMomentumHook in a real (tiny) Runner."""
import copy
import shutil
from collections import Counter
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import tiny_cfg


class _Probe(Hook):
    """Records what the model and the sampler hold at chosen moments."""

    priority = 'LOWEST'

    def __init__(self):
        self.epochs = {}
        self.batch_label_counts = []

    def before_train_epoch(self, runner):
        model = runner.model
        sampler = runner.train_dataloader.sampler
        self.epochs[runner.epoch] = dict(
            labels=model.pseudo_labels.clone(),
            bank=model.head.memory.bank.clone(),
            sampler_labels=torch.as_tensor(sampler.labels).clone(),
            optim_state=copy.deepcopy(runner.optim_wrapper.state_dict()),
        )

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        idx = torch.tensor(
            [s.sample_idx for s in data_batch['data_samples']])
        labels = runner.model.pseudo_labels[idx].tolist()
        self.batch_label_counts.append(Counter(labels))


def _run(cfg):
    runner = build_runner(cfg)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()
    return runner, probe


@pytest.mark.slow
def test_refresh_labels_model_memory_and_sampler(tiny_synthetic_root,
                                                 tmp_path):
    runner, probe = _run(
        tiny_cfg(tiny_synthetic_root, tmp_path, train_cfg=dict(max_epochs=2)))
    model = runner.model
    num_train = len(runner.train_dataloader.dataset)
    for epoch in (0, 1):
        state = probe.epochs[epoch]
        labels = state['labels']
        assert labels.shape == (num_train, )
        num_clusters = int(labels.max()) + 1
        assert num_clusters >= 2
        assert state['bank'].shape == (num_clusters, 128)
        torch.testing.assert_close(state['bank'].norm(dim=1),
                                   torch.ones(num_clusters))
        assert torch.equal(state['sampler_labels'], labels)
    # Every batch is P identities x K images of the *current* labels.
    for counts in probe.batch_label_counts:
        assert -1 not in counts
        assert set(counts.values()) == {2}
    # The memory moved during training (momentum hook ran).
    assert not torch.allclose(model.head.memory.bank,
                              probe.epochs[1]['bank'])
    # Refresh statistics reach the logs.
    assert runner.message_hub.get_scalar('train/pseudo_num_clusters')
    assert 0 <= runner.message_hub.get_scalar(
        'train/pseudo_ari').current() <= 1


@pytest.mark.slow
def test_labels_reach_training_with_persistent_workers(tiny_synthetic_root,
                                                       tmp_path):
    cfg = tiny_cfg(
        tiny_synthetic_root,
        tmp_path,
        train_cfg=dict(max_epochs=2),
        train_dataloader=dict(num_workers=1, persistent_workers=True))
    _, probe = _run(cfg)
    # Labels change between epochs; batches follow the new ones anyway.
    assert not torch.equal(probe.epochs[0]['labels'],
                           probe.epochs[1]['labels'])
    for counts in probe.batch_label_counts:
        assert -1 not in counts and set(counts.values()) == {2}


def _with_interval(cfg, interval):
    cfg.custom_hooks[0]['interval'] = interval
    return cfg


@pytest.mark.slow
def test_resume_restores_labels_memory_optimizer_and_epoch(
        tiny_synthetic_root, tmp_path):
    work_dir = tmp_path / 'run'
    first, first_probe = _run(
        _with_interval(
            tiny_cfg(tiny_synthetic_root, work_dir,
                     train_cfg=dict(max_epochs=1)), 2))
    saved_labels = first.model.pseudo_labels.clone()
    saved_bank = first.model.head.memory.bank.clone()
    saved_optim = first.optim_wrapper.state_dict()
    ckpt = safe_torch_load(work_dir / 'epoch_1.pth')
    assert ckpt['meta']['pseudo_labels']['epoch'] == 0

    # Resume for epoch 1; with interval 2 no refresh is due there, so the
    # restored labels and memory must be used, not re-clustered.
    cfg = _with_interval(
        tiny_cfg(tiny_synthetic_root, work_dir, train_cfg=dict(max_epochs=2),
                 resume=True, load_from=str(work_dir / 'epoch_1.pth')), 2)
    resumed, probe = _run(cfg)
    state = probe.epochs[1]
    assert list(probe.epochs) == [1]  # the epoch counter was restored
    assert torch.equal(state['labels'], saved_labels)
    assert torch.equal(state['bank'], saved_bank)
    assert torch.equal(state['sampler_labels'], saved_labels)
    optim = state['optim_state']['state']
    assert optim.keys() == saved_optim['state'].keys()
    for key, value in saved_optim['state'].items():
        assert torch.equal(optim[key]['exp_avg'], value['exp_avg'])
        assert int(optim[key]['step']) == int(value['step'])


@pytest.mark.slow
def test_resume_when_a_refresh_is_due_reclusters(tiny_synthetic_root,
                                                 tmp_path, caplog):
    work_dir = tmp_path / 'run'
    _run(tiny_cfg(tiny_synthetic_root, work_dir, train_cfg=dict(max_epochs=1)))
    cfg = tiny_cfg(
        tiny_synthetic_root,
        work_dir,
        train_cfg=dict(max_epochs=2),
        resume=True,
        load_from=str(work_dir / 'epoch_1.pth'))
    resumed, _ = _run(cfg)
    assert resumed.train_loop.epoch == 2
    meta = safe_torch_load(work_dir / 'epoch_2.pth')['meta']
    assert meta['pseudo_labels']['epoch'] == 1


@pytest.mark.slow
def test_load_from_does_not_reuse_foreign_labels(tiny_synthetic_root,
                                                 tmp_path):
    work_dir = tmp_path / 'run'
    _run(tiny_cfg(tiny_synthetic_root, work_dir, train_cfg=dict(max_epochs=1)))
    # Fine-tuning from that checkpoint (load_from, no resume) re-clusters at
    # epoch 0 even though the checkpoint holds labels.
    cfg = _with_interval(
        tiny_cfg(tiny_synthetic_root, tmp_path / 'finetune',
                 train_cfg=dict(max_epochs=1),
                 load_from=str(work_dir / 'epoch_1.pth')), 2)
    runner, probe = _run(cfg)
    meta = safe_torch_load(tmp_path / 'finetune' / 'epoch_1.pth')['meta']
    assert meta['pseudo_labels']['epoch'] == 0
    assert 0 in probe.epochs


def test_sampler_batch_size_mismatch_is_a_clear_error(tiny_synthetic_root,
                                                      tmp_path):
    cfg = tiny_cfg(
        tiny_synthetic_root,
        tmp_path,
        train_dataloader=dict(sampler=dict(batch_size=4)))
    with pytest.raises(ValueError, match='sampler.batch_size=4'):
        build_runner(cfg).train()


def test_missing_cluster_dataloader_is_a_clear_error(tiny_synthetic_root,
                                                     tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.pop('cluster_dataloader')
    with pytest.raises(KeyError, match='cluster_dataloader'):
        build_runner(cfg).train()


@pytest.mark.slow
def test_refresh_diagnostics_reach_logger_hub_and_visualizer(
        tiny_synthetic_root, tmp_path):
    import json
    # A name of its own: MMEngine reuses the logger and visualizer of an
    # earlier runner with the same experiment name (same second).
    runner, _ = _run(
        tiny_cfg(
            tiny_synthetic_root,
            tmp_path,
            train_cfg=dict(max_epochs=1),
            experiment_name=f'diagnostics_{tmp_path.name}'))
    hub = runner.message_hub
    # Label quality against the synthetic set's true ids.
    scores = {
        name: hub.get_scalar(f'train/pseudo_{name}').current()
        for name in ('ari', 'nmi', 'pairwise_precision', 'pairwise_recall',
                     'pairwise_fscore')
    }
    for value in scores.values():
        assert 0 <= value <= 1
    precision, recall = (scores['pairwise_precision'],
                         scores['pairwise_recall'])
    if precision + recall:
        assert scores['pairwise_fscore'] == pytest.approx(
            2 * precision * recall / (precision + recall))
    # Per-stage time and peak memory of the labeler.
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan'):
        assert hub.get_scalar(f'pseudo/time_{stage}').current() >= 0
        assert hub.get_scalar(f'pseudo/peak_mem_{stage}').current() > 10

    # The visualizer backends (here LocalVisBackend; TensorBoard gets the
    # same add_scalars call) hold every value with the epoch as step.
    log_dir = Path(runner.log_dir)
    scalars = log_dir / 'vis_data' / 'scalars.json'
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    refresh = [r for r in records if 'pseudo/num_clusters' in r]
    assert len(refresh) == 1 and refresh[0]['step'] == 0
    for key in ('ari', 'nmi', 'pairwise_precision', 'pairwise_recall',
                'pairwise_fscore', 'num_outliers', 'extract_time',
                'time_knn', 'time_dbscan', 'peak_mem_jaccard',
                'peak_mem_total'):
        assert f'pseudo/{key}' in refresh[0]
    assert refresh[0]['pseudo/ari'] == pytest.approx(scores['ari'])
    # The refresh's log lines name the scores and the stages.
    log = next(log_dir.glob('*.log')).read_text()
    assert 'pairwise_fscore=' in log and 'peak_mem_dbscan=' in log


def test_hook_progress_reaches_the_labeler(tiny_synthetic_root, tmp_path):
    from mmreid_unsup.engine.hooks import ClusterRefreshHook
    labeler = dict(type='DBSCANLabeler', k1=6, k2=2)
    assert ClusterRefreshHook(labeler, progress=True).labeler.progress
    assert not ClusterRefreshHook(labeler, progress=False).labeler.progress
    # A labeler config that sets its own progress keeps it.
    assert not ClusterRefreshHook(
        dict(labeler, progress=False), progress=True).labeler.progress


def _swap_one_train_image(root):
    """Same number of training images, one of them another file."""
    folder = root / 'bounding_box_train'
    first = sorted(folder.glob('*.jpg'))[0]
    first.rename(folder / first.name.replace('_00.jpg', '_09.jpg'))


@pytest.mark.slow
def test_resume_on_a_changed_training_set_reclusters(tiny_synthetic_root,
                                                      tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(tiny_synthetic_root, root)
    work_dir = tmp_path / 'run'
    _run(_with_interval(
        tiny_cfg(root, work_dir, train_cfg=dict(max_epochs=1)), 2))
    meta = safe_torch_load(work_dir / 'epoch_1.pth')['meta']
    saved = meta['pseudo_labels']['train_set']
    assert saved['num_samples'] == meta['pseudo_labels']['num_samples']

    _swap_one_train_image(root)
    # Interval 2: no refresh is due at epoch 1, yet the restored labels
    # belong to another image list, so the hook must re-cluster.
    resumed, probe = _run(_with_interval(
        tiny_cfg(root, work_dir, train_cfg=dict(max_epochs=2), resume=True,
                 load_from=str(work_dir / 'epoch_1.pth')), 2))
    meta = safe_torch_load(work_dir / 'epoch_2.pth')['meta']
    assert meta['pseudo_labels']['epoch'] == 1
    now = meta['pseudo_labels']['train_set']
    assert now['num_samples'] == saved['num_samples']
    assert now['sha1'] != saved['sha1']
    log = next(Path(resumed.log_dir).glob('*.log')).read_text()
    assert 'not reusing the pseudo labels' in log
    assert 'same number of images' in log


@pytest.mark.slow
def test_resume_on_the_same_training_set_says_nothing(tiny_synthetic_root,
                                                      tmp_path):
    work_dir = tmp_path / 'run'
    _run(_with_interval(
        tiny_cfg(tiny_synthetic_root, work_dir, train_cfg=dict(max_epochs=1)),
        2))
    resumed, _ = _run(_with_interval(
        tiny_cfg(tiny_synthetic_root, work_dir, train_cfg=dict(max_epochs=2),
                 resume=True, load_from=str(work_dir / 'epoch_1.pth')), 2))
    meta = safe_torch_load(work_dir / 'epoch_2.pth')['meta']
    assert meta['pseudo_labels']['epoch'] == 0  # restored, not re-clustered
    log = next(Path(resumed.log_dir).glob('*.log')).read_text()
    assert 'not reusing' not in log
