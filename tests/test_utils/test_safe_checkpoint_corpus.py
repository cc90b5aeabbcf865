"""Crafted checkpoints through every load path: none runs code.

The corpus (``tests/crafted_checkpoints.py``) holds the getattr /
``__self__`` gadget of issue 20, attribute injection into every stand-in
and into the classes torch allows by default, ``__reduce__`` of builtins,
payloads hidden deep inside containers and numpy objects with bogus data.
Each file is loaded through ``safe_torch_load``, the package's
``load_checkpoint``, ``init_cfg=dict(type='Pretrained')`` (under the
package's scope, as every config of the toolbox), ``zoo://``, the
torchreid converter and ``ReIDRunner`` resume and ``load_from``; one file
per kind of attack also through ``init_model``, ``tools/test.py`` and a
whole ``ReIDRunner.train()`` with ``resume``. Every load is refused with an
error naming the file, and no marker file is ever written.
"""
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModule

from crafted_checkpoints import (Crafted, build_corpus, meta_config_checkpoint)
from mmreid_unsup.engine import ReIDRunner, build_runner, load_checkpoint
from mmreid_unsup.utils import (UnsafeCheckpointError, register_all_modules,
                                safe_torch_load)
from tiny_cluster_contrast import REPO_ROOT, TINY_CONFIG, load_script, tiny_cfg
from zoo_test_server import model_entry, sha256_bytes, write_index

TOOLS = REPO_ROOT / 'tools'


class Tiny(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2, 2))


class TinyPretrained(BaseModule):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads into it."""

    def __init__(self, checkpoint: str) -> None:
        super().__init__(
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
        self.weight = nn.Parameter(torch.ones(2, 2))


@pytest.fixture(scope='module')
def corpus(tmp_path_factory) -> List[Crafted]:
    return build_corpus(tmp_path_factory.mktemp('crafted'))


#: One file per kind of attack, for the paths that build a whole model per
#: file (init_model, tools/test.py): the loading code they reach is the
#: CheckpointLoader path the whole corpus goes through above.
REPRESENTATIVE = ('getattr_self_gadget', 'history_deepcopy_attr',
                  'history_statistics_poison', 'reduce_os_system',
                  'nested_gadget_runtime_info', 'numpy_dtype_fields',
                  'ordered_dict_deepcopy_attr', 'parameter_with_state')


def _representative(corpus: List[Crafted], count: int) -> List[Crafted]:
    """The first ``count`` files of :data:`REPRESENTATIVE`."""
    by_name = {crafted.name: crafted for crafted in corpus}
    return [by_name[name] for name in REPRESENTATIVE[:count]]


def _markers(corpus: List[Crafted]) -> list:
    return sorted(corpus[0].path.parent.glob('MARKER*'))


def _refused_everywhere(
    corpus: List[Crafted],
    load: Callable[[Crafted], object],
    name: Callable[[Crafted], str] = lambda c: str(c.path)
) -> None:
    """``load`` raises UnsafeCheckpointError naming the file for every file
    of the corpus, and nothing ran."""
    failures = []
    for crafted in corpus:
        try:
            load(crafted)
        except UnsafeCheckpointError as err:
            message = str(err)
            if name(crafted) not in message \
                    or 'not a safe checkpoint' not in message:
                failures.append(f'{crafted.name}: unclear message {message}')
        except Exception as err:  # noqa: BLE001 (report, then fail)
            failures.append(f'{crafted.name}: {type(err).__name__}: {err}')
        else:
            failures.append(f'{crafted.name}: loaded')
    assert not failures, '\n'.join(failures)
    assert not _markers(corpus), 'a payload ran'


def test_the_corpus_covers_the_issue(corpus):
    names = {crafted.name for crafted in corpus}
    assert len(corpus) >= 35
    assert {
        'getattr_self_gadget', 'history_deepcopy_attr',
        'history_reduce_ex_attr', 'reduce_exec', 'reduce_eval',
        'reduce_os_system', 'nested_gadget_runtime_info',
        'numpy_bool_scalar_2', 'numpy_dtype_fields'
    } <= names


def test_safe_torch_load(corpus):
    _refused_everywhere(corpus, lambda c: safe_torch_load(c.path))


def test_the_global_allow_list_does_not_reopen_getattr(corpus):
    """Someone else allow-listing getattr does not affect our loads."""
    with torch.serialization.safe_globals([getattr]):
        _refused_everywhere(corpus, lambda c: safe_torch_load(c.path))
        assert getattr in torch.serialization.get_safe_globals()


def test_load_checkpoint(corpus):
    _refused_everywhere(
        corpus,
        lambda c: load_checkpoint(Tiny(), str(c.path), logger='silent'))


def test_pretrained_init_cfg(corpus):
    # As in a runner of any config of the toolbox (default_scope).
    register_all_modules(init_default_scope=True)
    _refused_everywhere(corpus,
                        lambda c: TinyPretrained(str(c.path)).init_weights())


def test_init_model(corpus):
    from mmreid_unsup.apis import init_model
    _refused_everywhere(_representative(corpus, 8),
                        lambda c: init_model(str(TINY_CONFIG), str(c.path)))
    assert not _markers(corpus)


def test_zoo_scheme(corpus, zoo_server, zoo_env, tmp_path, monkeypatch):
    entries = []
    for crafted in corpus:
        data = crafted.path.read_bytes()
        url_path = f'/v1/{crafted.name}.pth'
        zoo_server.state.files[url_path] = data
        entries.append(
            model_entry(f'crafted-{crafted.name}', zoo_server.url(url_path),
                        sha256_bytes(data)))
    monkeypatch.setenv('MMREID_ZOO_INDEX',
                       str(write_index(tmp_path / 'zoo', entries)))
    _refused_everywhere(
        corpus,
        lambda c: load_checkpoint(
            Tiny(), f'zoo://crafted-{c.name}', logger='silent'),
        name=lambda c: f'zoo://crafted-{c.name}')


def _load_script(relative: str, name: str):
    """Import a script of tools/ as a module."""
    return load_script(TOOLS / relative, name, import_root=TOOLS)


def test_torchreid_converter(corpus, tmp_path, capsys):
    converter = _load_script('model_converters/torchreid2mmreid.py',
                             'torchreid2mmreid_corpus')
    failures = []
    for crafted in corpus:
        status = converter.main([str(crafted.path), str(tmp_path / 'out.pth')])
        err = capsys.readouterr().err
        if status != 1 or str(crafted.path) not in err \
                or 'not a safe checkpoint' not in err:
            failures.append(f'{crafted.name}: status {status}: {err}')
    assert not failures, '\n'.join(failures)
    assert not (tmp_path / 'out.pth').exists()
    assert not _markers(corpus)


@pytest.fixture(scope='module')
def runner(tiny_synthetic_root, tmp_path_factory) -> ReIDRunner:
    """A tiny runner whose resume / load_checkpoint the files go through."""
    work_dir = tmp_path_factory.mktemp('corpus_runner')
    return build_runner(tiny_cfg(tiny_synthetic_root, work_dir))


def test_runner_resume(corpus, runner):
    _refused_everywhere(corpus, lambda c: runner.resume(str(c.path)))


def test_runner_load_from(corpus, runner):
    _refused_everywhere(corpus, lambda c: runner.load_checkpoint(str(c.path)))


@pytest.mark.parametrize('name, resume', [
    ('getattr_self_gadget', True),
    ('nested_gadget_runtime_info', True),
    ('getattr_self_gadget', False),
])
def test_runner_train_with_resume_or_load_from(corpus, tiny_synthetic_root,
                                               tmp_path, name, resume):
    """The whole ``tools/train.py --resume FILE`` / ``load_from`` path."""
    crafted = next(c for c in corpus if c.name == name)
    cfg = tiny_cfg(tiny_synthetic_root,
                   tmp_path / 'work',
                   load_from=str(crafted.path),
                   resume=resume)
    with pytest.raises(UnsafeCheckpointError, match=str(crafted.path)):
        build_runner(cfg).train()
    assert not _markers(corpus)


@pytest.mark.slow
def test_tools_test_py(corpus, tiny_synthetic_root, tmp_path):
    from reid_tiny_model import write_tiny_config
    tool = _load_script('test.py', 'reid_test_tool_corpus')
    config = write_tiny_config(tiny_synthetic_root, tmp_path / 'tiny.py')
    _refused_everywhere(
        _representative(corpus, 4), lambda c: tool.main(
            [str(config),
             str(c.path), '--work-dir',
             str(tmp_path / 'work')]))
    assert not _markers(corpus)


# -- a real checkpoint: loads exactly as before, and resumes --------------


@pytest.fixture(scope='module')
def real_checkpoint(tiny_synthetic_root, tmp_path_factory) -> Path:
    """epoch_1.pth of a one-epoch tiny run: message hub, random states,
    optimizer, param scheduler, pseudo labels."""
    work_dir = tmp_path_factory.mktemp('corpus_real')
    cfg = tiny_cfg(tiny_synthetic_root,
                   work_dir,
                   train_cfg=dict(max_epochs=1, val_interval=5),
                   param_scheduler=[dict(type='MultiStepLR', milestones=[1])])
    build_runner(cfg).train()
    return work_dir / 'epoch_1.pth'


def _assert_same(expected, got, path='checkpoint'):
    assert type(got) is type(expected), path
    if isinstance(expected, dict):
        assert list(got) == list(expected), path
        assert getattr(got, '_metadata',
                       None) == getattr(expected, '_metadata', None), path
        for key in expected:
            _assert_same(expected[key], got[key], f'{path}[{key!r}]')
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), path
        for index, (a, b) in enumerate(zip(expected, got)):
            _assert_same(a, b, f'{path}[{index}]')
    elif isinstance(expected, torch.Tensor):
        assert got.dtype == expected.dtype and torch.equal(got, expected)
    elif isinstance(expected, np.ndarray):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes(), path
    elif isinstance(expected, HistoryBuffer):
        assert got.max_length == expected.max_length, path
        for a, b in zip(expected.data, got.data):
            _assert_same(a, b, path)
    else:
        assert got == expected, path


def test_a_real_checkpoint_loads_exactly_as_the_unsafe_load(real_checkpoint):
    expected = torch.load(real_checkpoint, weights_only=False)
    got = safe_torch_load(real_checkpoint)
    assert {'message_hub', 'optimizer', 'param_schedulers'} <= set(got)
    assert got['message_hub']['log_scalars'], 'no HistoryBuffer to check'
    _assert_same(expected, got)


def test_meta_config_is_never_run_on_resume(real_checkpoint, tmp_path,
                                            tiny_synthetic_root):
    """MMEngine's Runner.resume runs meta['config'] through
    Config.fromstring; the loader drops it and the run resumes."""
    marker = tmp_path / 'MARKER_meta_config'
    path = meta_config_checkpoint(
        torch.load(real_checkpoint, weights_only=False),
        tmp_path / 'meta_config.pth', marker)
    assert 'config' not in safe_torch_load(path)['meta']
    cfg = tiny_cfg(tiny_synthetic_root,
                   tmp_path / 'work',
                   train_cfg=dict(max_epochs=1, val_interval=5),
                   load_from=str(path),
                   resume=True)
    runner = build_runner(cfg)
    runner.train()
    assert not marker.exists(), 'meta["config"] ran'
    assert runner.epoch == 1


def test_the_crafted_files_are_zip_checkpoints(corpus):
    """Sanity: the corpus files are torch zip files (what users have), and
    an unrestricted load does take their state (checked on a harmless
    one: the real HistoryBuffer accepts an injected attribute)."""
    import zipfile
    assert all(zipfile.is_zipfile(c.path) for c in corpus)
    crafted = next(c for c in corpus if c.name == 'history_extra_key')
    loaded = torch.load(crafted.path, weights_only=False)
    assert 'update' in vars(loaded['meta']['payload'])
