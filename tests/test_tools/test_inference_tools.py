"""tools/test.py (cross-dataset table, TTA, re-ranking, pictures),
tools/search.py and tools/deploy/export_onnx.py on the tiny set."""
import json
import time
from pathlib import Path

import cv2
import pytest

from mmreid_unsup.visualization import STATUS_COLORS, RankedListLayout
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from tiny_cluster_contrast import load_script

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


def load_tool(relative: str, name: str):
    """Import a script of tools/ as a module."""
    return load_script(TOOLS / relative, name, import_root=TOOLS)


@pytest.fixture(scope='module')
def tiny_files(tiny_synthetic_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('tools')
    config = write_tiny_config(tiny_synthetic_root, folder / 'tiny.py')
    # The same set under another name: a second "test set".
    other = write_tiny_config(tiny_synthetic_root, folder / 'again.py')
    checkpoint = save_untrained_checkpoint(config, folder / 'tiny.pth')
    return config, other, checkpoint


def rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def frame(picture, layout, cell):
    x0, y0, x1, _ = layout.box(cell)
    return tuple(int(v) for v in picture[y0 + 1, (x0 + x1) // 2])


def test_test_tool_cross_dataset_tta_rerank_pictures(tiny_files, tmp_path,
                                                      capsys):
    config, other, checkpoint = tiny_files
    tool = load_tool('test.py', 'reid_test_tool')
    show, out = tmp_path / 'show', tmp_path / 'metrics.json'
    metrics = tool.main([
        str(config),
        str(checkpoint), '--work-dir',
        str(tmp_path / 'work'), '--test-sets',
        str(config),
        str(other), '--tta', '--rerank', '--show-dir',
        str(show), '--show-num', '2', '--show-topk', '4', '--out',
        str(out),
        # A name of its own: MMEngine would hand a run named after the config
        # and the second it starts the logger (and log file) of an earlier
        # run in this process with that name.
        '--cfg-options', f'experiment_name=tta_rerank_{time.time_ns()}'
    ])
    keys = {f'{s}/reid/{m}' for s in ('tiny', 'again')
            for m in ('mAP', 'rank1', 'rank5', 'rank10', 'mINP')}
    assert set(metrics) == keys
    assert json.loads(out.read_text()) == metrics
    # The same images under two names: the same scores, each set ranked
    # against its own gallery.
    for name in ('mAP', 'rank1', 'mINP'):
        assert metrics[f'tiny/reid/{name}'] == metrics[f'again/reid/{name}']
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 're-ranked (20, 6, 0.3)' in log
    assert '| tiny ' in log and '| again ' in log

    layout = RankedListLayout()
    allowed = {STATUS_COLORS[s] for s in ('match', 'wrong', 'junk')}
    for name in ('tiny', 'again'):
        pictures = sorted((show / name).glob('*.png'))
        assert len(pictures) == 2
        for path in pictures:
            picture = rgb(path)
            assert picture.shape == layout.canvas_size(4) + (3, )
            assert frame(picture, layout, 0) == STATUS_COLORS['query']
            assert {frame(picture, layout, c) for c in range(1, 5)} <= allowed


def test_test_tool_options_are_checked(tiny_files):
    config, _, checkpoint = tiny_files
    tool = load_tool('test.py', 'reid_test_tool')
    with pytest.raises(FileNotFoundError, match='neither a config file'):
        tool.build_cfg(
            tool.parse_args(
                [str(config),
                 str(checkpoint), '--test-sets', 'no_such_set']))
    cfg = tool.build_cfg(tool.parse_args([str(config), str(checkpoint)]))
    assert cfg.model.type == 'ClusterContrast'
    assert not cfg.test_evaluator.get('rerank')
    # Names of configs/_base_/datasets/ files, read with CONFIG's pipeline.
    cfg = tool.build_cfg(
        tool.parse_args([
            str(config),
            str(checkpoint), '--test-sets', 'synthetic', 'market1501.py',
            '--tta', '--rerank'
        ]))
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'ConcatReIDDataset'
    assert dataset.names == ['synthetic', 'market1501']
    assert [d.type for d in dataset.datasets] == [
        'SyntheticReID', 'Market1501'
    ]
    for d in dataset.datasets:
        assert d.split == 'test' and d.pipeline[1].scale == (16, 32)
    assert cfg.test_evaluator.type == 'MultiDatasetsEvaluator'
    assert cfg.test_evaluator.metrics.rerank is True
    assert cfg.model.type == 'ReIDFlipTTAModel'
    assert cfg.model.module.type == 'ClusterContrast'
    assert tool.format_table({'reid/mAP': 12.345, 'reid/rank1': 50.0},
                             'set').splitlines()[2] == \
        '| set      |   12.35 |   50.00 |'
    # Two metrics with their own prefixes: one row each.
    rows = tool.format_table({'reid/mAP': 1.0, 'scl/mAP': 2.0},
                             'set').splitlines()[2:]
    assert rows == ['| set [reid] |    1.00 |', '| set [scl]  |    2.00 |']


def test_search_tool_finds_the_query_itself(tiny_files, tiny_synthetic_root,
                                            tmp_path, capsys):
    config, _, checkpoint = tiny_files
    tool = load_tool('search.py', 'reid_search_tool')
    gallery = tiny_synthetic_root / 'bounding_box_test'
    query = sorted(gallery.glob('*.jpg'))[3]
    out = tmp_path / 'matches.png'
    matches = tool.main([
        str(query),
        str(gallery), '--config',
        str(config), '--checkpoint',
        str(checkpoint), '--topk', '3', '--out',
        str(out), '--no-progress', '--backend', 'torch'
    ])
    assert len(matches) == 3 and matches[0][0] == str(query)
    assert matches[0][1] < 1e-4 and matches[1][1] >= matches[0][1]
    printed = capsys.readouterr().out
    assert str(query) in printed and 'distance' in printed
    picture = rgb(out)
    layout = RankedListLayout()
    assert picture.shape == layout.canvas_size(3) + (3, )
    assert frame(picture, layout, 1) == STATUS_COLORS['unknown']


def test_export_onnx_tool(tiny_files, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    config, _, checkpoint = tiny_files
    tool = load_tool('deploy/export_onnx.py', 'reid_export_tool')
    out = tmp_path / 'model.onnx'
    max_diff = tool.main([str(config), str(checkpoint), '--out', str(out)])
    assert out.is_file() and max_diff <= 1e-4
    # The input size comes from the test pipeline (Resize to 16x32).
    assert 'input 3x32x16' in capsys.readouterr().out
