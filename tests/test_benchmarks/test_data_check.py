"""benchmarks/data_check.py runs end to end on a small synthetic set and its
report finds exactly the planted bad files."""
import json
import subprocess
import sys

import pytest

from tiny_cluster_contrast import REPO_ROOT


@pytest.mark.slow
def test_benchmark_finds_the_planted_files(tmp_path):
    out = tmp_path / 'data_check.json'
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'benchmarks' / 'data_check.py'), '--cuhk03', '',
        '--synthetic', '700', '--size', '32x16', '--repeats', '1', '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report['problems'] == []
    res = report['results']['synthetic (700)']
    # One bad file of each planted kind (files 50, 150, ..., 650).
    assert res['planted'] == dict.fromkeys([
        'truncated_jpeg', 'empty', 'not_image', 'grayscale', 'rgba',
        'gray16', 'garbled_png'
    ], 1)
    levels = res['levels']
    assert levels['none']['counts'] == {} and \
        levels['none']['num_samples'] == 700
    assert levels['header']['counts'] == dict(
        corrupt=1, empty=1, not_image=1, grayscale=1, alpha=1,
        high_bit_depth=1)
    assert levels['header']['num_samples'] == 697
    # Only decoding finds the garbled pixel data.
    assert levels['decode']['counts']['corrupt'] == 2
    assert levels['decode']['num_samples'] == 696
    assert levels['decode']['files_checked'] == 700
    assert res['load_seconds'] > 0
    assert '| synthetic (700) | 700 | 32x16 | header |' in proc.stdout
