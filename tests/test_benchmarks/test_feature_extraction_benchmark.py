"""benchmarks/feature_extraction.py on a few real crops."""
import json

import pytest
import torch

from tiny_cluster_contrast import REPO_ROOT, load_script, shared_dir

CUHK03 = shared_dir() / 'data' / 'cuhk03'


@pytest.mark.skipif(
    not (CUHK03 / 'full').is_dir(),
    reason=f'the CUHK03 crops are not at {CUHK03} (set MMREID_SHARED_DIR)')
@pytest.mark.slow
def test_every_setting_is_timed_and_gives_the_same_features(tmp_path):
    script = load_script(REPO_ROOT / 'benchmarks' / 'feature_extraction.py',
                         'feature_extraction_benchmark')
    out = tmp_path / 'fe.json'
    result = script.main([
        '--num-images', '12', '--batch-sizes', '4', '8', '--repeats', '1',
        '--data-root',
        str(CUHK03), '--out',
        str(out)
    ])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    rows = result['rows']
    assert [(r['layout'], r['flush_denormals'], r['batch_size'])
            for r in rows] == [(layout, flush, batch)
                               for layout in ('nchw', 'channels_last')
                               for flush in (False, True)
                               for batch in (4, 8)]
    assert rows[0]['speedup'] == 1.0
    for row in rows:
        assert row['seconds'] > 0 and row['images_per_s'] > 0
        assert row['min_cosine_to_baseline'] > 0.9999
    assert result['machine']['cpu']['model']


def test_training_step_benchmark_times_every_setting(tmp_path):
    script = load_script(REPO_ROOT / 'benchmarks' / 'training_step.py',
                         'training_step_benchmark')
    result = script.main(['--steps', '1', '--batch-size', '2', '--out',
                          str(tmp_path / 'steps.json')])
    settings = {'nchw', 'channels_last', 'channels_last_zeroed'}
    assert set(result['median_seconds']) == settings
    assert all(len(v) == 1 and v[0] > 0 for v in result['seconds'].values())
    assert result['speedup']['nchw'] == 1.0
    assert all(result['speedup'][name] > 0 for name in settings)


def test_benchmarks_start_from_the_released_weights():
    """The zoo's torchreid OSNet, which carries the denormal weights."""
    script = load_script(REPO_ROOT / 'benchmarks' / 'feature_extraction.py',
                         'feature_extraction_benchmark')
    model = script.protocol_model()
    tiny = torch.finfo(torch.float32).tiny
    denormal = sum(int(((p.abs() < tiny) & (p != 0)).sum())
                   for p in model.parameters())
    assert denormal > 0
