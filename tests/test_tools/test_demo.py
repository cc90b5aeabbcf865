"""tools/demo.py: a quiet terminal, the full log in a file, and the two
pictures it promises; run on the tiny recipe (two short epochs)."""
import io
import json
import re
import sys

import cv2
import pytest

from tiny_cluster_contrast import REPO_ROOT, TINY_CONFIG, load_script


def _load_demo():
    return load_script(REPO_ROOT / 'tools' / 'demo.py', 'demo_tool')


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """Run the demo once; the tests below read its terminal and files."""
    tmp = tmp_path_factory.mktemp('demo')
    data_root = str(tmp / 'data')
    options = [
        f'demo_data_root={data_root}',
        'demo_data.num_train_ids=16', 'demo_data.num_test_ids=8',
        'demo_data.num_cams=3', 'demo_data.images_per_id_per_cam=3',
        'demo_data.img_size=(64,32)', 'train_cfg.val_interval=1'
    ] + [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'cluster_dataloader',
                       'val_dataloader', 'test_dataloader')
    ]
    work_dir = tmp / 'work'
    out = io.StringIO()
    capture = pytest.MonkeyPatch()
    capture.setattr(sys, 'stdout', out)
    try:
        results = _load_demo().main([
            '--config', str(TINY_CONFIG), '--work-dir', str(work_dir),
            '--cfg-options'
        ] + options)
    finally:
        capture.undo()
    return dict(results=results, stdout=out.getvalue(), work_dir=work_dir)


@pytest.mark.slow
def test_terminal_shows_one_short_line_per_epoch(demo_run):
    lines = demo_run['stdout'].splitlines()
    epoch_lines = [line for line in lines if line.startswith('epoch ')]
    assert len(epoch_lines) == 2, demo_run['stdout']
    for line in epoch_lines:
        for field in ('loss', 'clusters', 'ARI', 'mAP'):
            assert f'{field} ' in line, line
    # MMEngine's records stay in the log file, not on the terminal.
    assert not [line for line in lines if ' - INFO - ' in line]
    # Short lines, but for those that name a file (as long as its path).
    tmp = str(demo_run['work_dir'].parent)
    assert max(len(line) for line in lines if tmp not in line) <= 100, (
        demo_run['stdout'])
    assert '| before training ' in demo_run['stdout']


@pytest.mark.slow
def test_full_log_goes_to_the_printed_file(demo_run):
    match = re.search(r'^full log: (\S+)$', demo_run['stdout'], re.M)
    assert match, demo_run['stdout']
    log = open(match.group(1)).read()
    assert 'Epoch(train)' in log and 'Epoch(val)' in log


@pytest.mark.slow
def test_pictures_and_results_are_written(demo_run):
    results = demo_run['results']
    for key in ('ranked_lists', 'training_curves'):
        assert f'{results[key]}' in demo_run['stdout']
        image = cv2.imread(results[key])
        assert image is not None and image.size > 0, key
    # Four queries, one ranked list (cells 128 pixels high) each, stacked.
    assert cv2.imread(results['ranked_lists']).shape[0] >= 4 * 128
    saved = json.loads(
        (demo_run['work_dir'] / 'demo_results.json').read_text())
    assert saved['after']['reid/mAP'] == results['after']['reid/mAP']


def test_the_default_config_is_the_zoo_osnet_demo():
    path = REPO_ROOT / _load_demo().DEFAULT_CONFIG
    assert path.is_file(), path
    assert 'osnet-x0.25-msmt17-zoo' in path.name
