"""Every released checkpoint gives the numbers its metafile states.

Each entry of the repository's index with a CUHK03 dev result is evaluated
from the zoo itself (``tools/test.py CONFIG zoo://NAME``: resolved,
sha256-verified, loaded) on the real crops, and every metric must equal the
metafile's to 0.01.
"""
import pytest

from mmreid_unsup.model_zoo import DEFAULT_INDEX, load_index
from tiny_cluster_contrast import REPO_ROOT, load_script, shared_dir

CUHK03 = shared_dir() / 'data' / 'cuhk03'
#: Metafile metric names -> tools/test.py keys.
METRIC_KEYS = {
    'mAP': 'reid/mAP',
    'Rank-1': 'reid/rank1',
    'Rank-5': 'reid/rank5',
    'Rank-10': 'reid/rank10',
    'mINP': 'reid/mINP'
}
RELEASED = [(model, result) for model in load_index(DEFAULT_INDEX)
            for result in model.results if 'CUHK03' in result.dataset]


def test_released_entries_are_checked():
    assert RELEASED, f'no CUHK03 result in {DEFAULT_INDEX}'


@pytest.mark.e2e
@pytest.mark.skipif(
    not (CUHK03 / 'full').is_dir(),
    reason=f'the CUHK03 crops are not at {CUHK03} (set MMREID_SHARED_DIR)')
@pytest.mark.parametrize(
    'model, result', RELEASED, ids=[m.name for m, _ in RELEASED])
def test_metafile_numbers_are_measured_from_the_file(model, result,
                                                     tmp_path, monkeypatch):
    monkeypatch.setenv('MMREID_OFFLINE', '1')  # a fresh clone, no network
    tool = load_script(REPO_ROOT / 'tools' / 'test.py', 'test_tool')
    metrics = tool.main([
        str(model.config_path(DEFAULT_INDEX)), f'zoo://{model.name}',
        '--work-dir',
        str(tmp_path), '--cfg-options',
        f'test_dataloader.dataset.data_root={CUHK03}'
    ])
    for name, value in result.metrics.items():
        assert metrics[METRIC_KEYS[name]] == pytest.approx(value, abs=0.01), (
            name)
