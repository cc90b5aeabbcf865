"""A directory given as a checkpoint: named as a directory, with the
checkpoints it holds suggested, on every path."""

import pytest
import torch

from mmreid_unsup.engine import load_checkpoint, read_checkpoint
from mmreid_unsup.utils import safe_torch_load
from mmreid_unsup.utils.checkpoint_path import (CheckpointIsADirectoryError,
                                                check_checkpoint_file)
from tiny_cluster_contrast import REPO_ROOT, TINY_CONFIG, load_script


@pytest.fixture
def work_dir(tmp_path):
    """A run's folder: epoch_1..epoch_12 and last_checkpoint -> epoch_12."""
    folder = tmp_path / 'run'
    folder.mkdir()
    for epoch in range(1, 13):
        torch.save({'state_dict': {}}, folder / f'epoch_{epoch}.pth')
    (folder / 'last_checkpoint').write_text(str(folder / 'epoch_12.pth'))
    return folder


def _check_message(message: str, folder) -> None:
    assert f'{folder} is a directory, expected a checkpoint file' in message
    assert f'did you mean {folder}/epoch_12.pth (named by ' \
        f'{folder}/last_checkpoint)' in message
    # The newest five, in natural order (epoch_10 after epoch_9).
    assert 'one of: epoch_8.pth, epoch_9.pth, epoch_10.pth, epoch_11.pth, ' \
        'epoch_12.pth (and 7 older)' in message
    assert 'can not be found' not in message


def test_check_checkpoint_file(work_dir):
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        check_checkpoint_file(str(work_dir))
    _check_message(str(excinfo.value), work_dir)
    # Also a FileNotFoundError for code that reports missing checkpoints.
    assert isinstance(excinfo.value, FileNotFoundError)
    assert isinstance(excinfo.value, IsADirectoryError)
    assert check_checkpoint_file(str(work_dir / 'epoch_1.pth')) == str(
        work_dir / 'epoch_1.pth')
    with pytest.raises(FileNotFoundError, match='can not be found'):
        check_checkpoint_file(str(work_dir / 'epoch_99.pth'))


def test_an_empty_directory(tmp_path):
    with pytest.raises(CheckpointIsADirectoryError,
                       match='holds no .pth file and no last_checkpoint'):
        check_checkpoint_file(str(tmp_path))


def test_safe_torch_load_and_load_checkpoint(work_dir):
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        safe_torch_load(work_dir)
    _check_message(str(excinfo.value), work_dir)
    # The reader of the runner (load_from, resume) and Pretrained init.
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        read_checkpoint(str(work_dir))
    _check_message(str(excinfo.value), work_dir)
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        load_checkpoint(torch.nn.Linear(2, 2), str(work_dir), logger='silent')
    _check_message(str(excinfo.value), work_dir)


def test_init_model(work_dir):
    from mmreid_unsup.apis import init_model
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        init_model(str(TINY_CONFIG), str(work_dir))
    _check_message(str(excinfo.value), work_dir)


def _load_script(relative: str, name: str):
    tools = REPO_ROOT / 'tools'
    return load_script(tools / relative, name, import_root=tools)


def test_tools_test_py(work_dir):
    tool = _load_script('test.py', 'reid_test_tool_directory')
    with pytest.raises(CheckpointIsADirectoryError) as excinfo:
        tool.check_checkpoint_arg(str(work_dir))
    _check_message(str(excinfo.value), work_dir)


def test_torchreid_converter(work_dir, tmp_path, capsys):
    converter = _load_script('model_converters/torchreid2mmreid.py',
                             'torchreid2mmreid_directory')
    assert converter.main([str(work_dir), str(tmp_path / 'out.pth')]) == 1
    _check_message(capsys.readouterr().err, work_dir)
