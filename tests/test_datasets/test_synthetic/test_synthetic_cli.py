import runpy
import sys

from mmreid_unsup.datasets import SyntheticReID
from mmreid_unsup.datasets.synthetic.cli import main

ARGS = ['--num-train-ids', '3', '--num-test-ids', '2', '--num-cams', '2',
        '--images-per-id-per-cam', '2', '--seed', '5', '--no-progress']


def test_main(tmp_path, capsys):
    main(['--out', str(tmp_path)] + ARGS)
    printed = capsys.readouterr().out
    train = SyntheticReID(data_root=str(tmp_path))
    assert f'num_train={len(train)}' in printed
    assert train.num_ids == 3


def test_python_dash_m(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, 'argv',
                        ['mmreid-synthetic', '--out', str(tmp_path)] + ARGS)
    runpy.run_module('mmreid_unsup.datasets.synthetic', run_name='__main__')
    assert SyntheticReID(data_root=str(tmp_path), split='test').num_ids == 2
