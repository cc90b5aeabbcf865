"""tools/analysis_tools/plot_curves.py and tools/misc/print_config.py."""
import json
from pathlib import Path

import cv2
import pytest

from tiny_cluster_contrast import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_tool(relative: str, name: str):
    return load_script(REPO_ROOT / 'tools' / relative, name)


plot_curves = load_tool('analysis_tools/plot_curves.py', 'plot_curves')
print_config = load_tool('misc/print_config.py', 'print_config')


def write_log(work_dir: Path, epochs: int = 3) -> Path:
    """A scalars.json as MMEngine writes it: validation before training,
    two logged iterations per epoch, validation after the last epoch."""
    path = work_dir / '20260101_000000' / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    records = [{'reid/mAP': 5.0, 'time': 0.1, 'step': 0}]
    for epoch in range(1, epochs + 1):
        for it in range(2):
            records.append({
                'pseudo_num_clusters': 10.0 * epoch,
                'pseudo_nmi': 0.5 + 0.1 * epoch,
                'loss': 10.0 - epoch - it,
                'epoch': epoch,
                'iter': 2 * (epoch - 1) + it + 1,
                'step': 2 * (epoch - 1) + it + 1
            })
    records.append({'reid/mAP': 30.0, 'time': 0.1, 'step': epochs})
    path.write_text('\n'.join(json.dumps(r) for r in records) + '\n')
    return path


def test_epoch_series(tmp_path):
    records = plot_curves.load_records(str(write_log(tmp_path)))
    assert plot_curves.epoch_series(records, 'loss') == {
        'loss': ([1, 2, 3], [8.5, 7.5, 6.5])  # mean of each epoch
    }
    assert plot_curves.epoch_series(records, 'mAP') == {
        'reid/mAP': ([0, 3], [5.0, 30.0])
    }
    assert plot_curves.epoch_series(
        records, 'pseudo_num_clusters')['pseudo_num_clusters'][1] == [
            10.0, 20.0, 30.0
        ]


def test_plot_curves_writes_one_panel_per_key(tmp_path):
    write_log(tmp_path / 'run_a')
    write_log(tmp_path / 'run_b', epochs=2)
    out = tmp_path / 'curves.png'
    plotted = plot_curves.main([
        str(tmp_path / 'run_a'),
        str(tmp_path / 'run_b'), '--out',
        str(out), '--dpi', '50'
    ])
    assert plotted == ['loss', 'mAP', 'pseudo_num_clusters', 'pseudo_nmi']
    image = cv2.imread(str(out))
    # 4.2 x 3.4 inches per panel at 50 dpi.
    assert image.shape == (170, 4 * 210, 3)
    with pytest.raises(ValueError, match='none of the keys'):
        plot_curves.plot_curves([str(tmp_path / 'run_a')], ['accuracy'],
                                str(out))
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        plot_curves.find_log(str(tmp_path / 'missing'))


def test_print_config_resolves_bases_and_options(capsys):
    text = print_config.main([
        str(REPO_ROOT / 'configs' / '_base_' / 'datasets' /
            'synthetic_holdout-val.py'), '--cfg-options',
        'val_dataloader.batch_size=7'
    ])
    printed = capsys.readouterr().out
    assert text in printed
    # From the bases: the synthetic set and the 64x32 test pipeline; from
    # the file itself: the held-out split; from the command line: 7.
    assert "type='SyntheticReID'" in text
    assert "split='holdout'" in text and 'num_holdout_ids=20' in text
    assert 'batch_size=7' in text
