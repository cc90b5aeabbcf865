"""StageProfiler: per-stage time, peak memory and progress."""
import time

import numpy as np

from mmreid_unsup.pseudo_labels import StageProfiler
from mmreid_unsup.pseudo_labels.profiling import current_rss_mb


def test_time_and_per_stage_peak_memory():
    profiler = StageProfiler()
    with profiler.stage('big'):
        block = np.ones(300 << 17)  # 300 MiB of float64, touched
        del block
    with profiler.stage('small'):
        time.sleep(0.05)
    stats = profiler.stats
    assert stats['time_small'] >= 0.05
    assert stats['time_big'] >= 0
    baseline = current_rss_mb()
    assert stats['peak_mem_big'] >= baseline + 250
    if profiler.per_stage_peak:  # Linux: the second stage has its own peak
        assert stats['peak_mem_small'] < stats['peak_mem_big'] - 250
    assert 'peak_gpu_mem_big' not in stats  # CPU only


def test_progress_callback_and_bar(capsys):
    profiler = StageProfiler(progress=True)
    with profiler.stage('chunks') as progress:
        for done in range(1, 4):
            progress(done, 3)
    assert 'chunks' in capsys.readouterr().err

    silent = StageProfiler()
    with silent.stage('quiet') as progress:
        progress(1, 2)
    assert capsys.readouterr().err == ''


def test_stats_recorded_when_the_stage_raises():
    profiler = StageProfiler()
    try:
        with profiler.stage('failing'):
            raise KeyError('boom')
    except KeyError:
        pass
    assert 'time_failing' in profiler.stats
