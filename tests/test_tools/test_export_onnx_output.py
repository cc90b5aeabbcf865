"""ONNX export to an output it cannot write: stopped before the export
(and, in the tool, before the model loads), with the file named."""
import tempfile
from pathlib import Path

import pytest
import torch

from tiny_cluster_contrast import load_script

from mmreid_unsup.apis import export_onnx
from mmreid_unsup.utils.writable_output import check_writable_output

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


@pytest.fixture
def no_export(monkeypatch):
    """Fail the test if the (slow) export itself starts."""

    def export(*args, **kwargs):
        raise AssertionError('the export ran before the output was checked')

    monkeypatch.setattr(torch.onnx, 'export', export)


def test_tool_checks_the_folder_before_loading_the_model(tmp_path, no_export):
    tool = load_script(TOOLS / 'deploy' / 'export_onnx.py',
                       'reid_export_output')
    (tmp_path / 'file').write_text('')
    out = tmp_path / 'file' / 'model.onnx'
    # The config does not exist: reaching init_model would say so instead.
    with pytest.raises(OSError) as err:
        tool.main(['missing_config.py', 'missing.pth', '--out', str(out)])
    assert str(err.value).endswith(
        f'cannot write the ONNX file {out}: its folder {out.parent} cannot '
        'be made (File exists)')


def test_api_checks_before_exporting(tmp_path, no_export):
    with pytest.raises(IsADirectoryError,
                       match=f'the ONNX file {tmp_path} is a folder'):
        export_onnx(object(), str(tmp_path))
    (tmp_path / 'file').write_text('')
    with pytest.raises(OSError, match='cannot write the ONNX file'):
        export_onnx(object(), str(tmp_path / 'file' / 'deep' / 'm.onnx'))


def test_unwritable_folder_is_named(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(tempfile, 'TemporaryFile', refuse)
    out = tmp_path / 'ro' / 'model.onnx'
    with pytest.raises(PermissionError) as err:
        check_writable_output(out, 'ONNX file')
    assert (f'cannot write the ONNX file {out}: its folder {out.parent} is '
            'not writable (Permission denied)') in str(err.value)


def test_writable_output_leaves_nothing_behind(tmp_path):
    out = tmp_path / 'a' / 'b' / 'model.onnx'
    assert check_writable_output(out) == out
    assert list(out.parent.iterdir()) == [] and not out.exists()
