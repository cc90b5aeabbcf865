"""The model zoo index: the shipped files, the schema checks, name lookup."""
import textwrap

import pytest
import yaml

from mmreid_unsup.model_zoo import (DEFAULT_INDEX, ENV_INDEX, IndexFormatError,
                                    ModelIndex, UnknownModelError, index_path,
                                    load_index)
from mmreid_unsup.utils import atomic_write_bytes
from tiny_cluster_contrast import REPO_ROOT, TINY_CONFIG
from zoo_test_server import model_entry, write_index

SHA = 'ab' * 32
SHA2 = 'cd' * 32


def test_shipped_index_is_valid_and_lists_only_released_models():
    # OpenMMLab's layout: model-index.yml at the root, one metafile per
    # method folder of configs/.
    assert DEFAULT_INDEX == REPO_ROOT / 'model-index.yml'
    index = ModelIndex.load(DEFAULT_INDEX)
    # Entries exist only for files that exist, in the repository.
    for model in index:
        assert model.in_repository and model.repository_file.is_file()
        assert model.config_path(DEFAULT_INDEX).is_file()
    assert {'Cluster-Contrast', 'PPSSL', 'SCL', 'GSL', 'GRACL'} <= set(
        index.collections)
    imported = yaml.safe_load(DEFAULT_INDEX.read_text())['Import']
    methods = sorted(p.parent.name
                     for p in (REPO_ROOT / 'configs').glob('*/README.md'))
    assert sorted(m.split('/')[1] for m in imported) == methods
    for metafile in imported:
        assert metafile.startswith('configs/')
        assert (DEFAULT_INDEX.parent / metafile).is_file()
        for collection in (yaml.safe_load(
                (DEFAULT_INDEX.parent / metafile).read_text())['Collections']):
            readme = collection.get('README')
            assert readme is None or (REPO_ROOT / readme).is_file()


def test_mim_reads_the_same_index():
    """``model-index`` (the package ``mim`` reads indexes with) finds the
    same models, configs, weights and results in the shipped index."""
    modelindex = pytest.importorskip('modelindex')
    theirs = modelindex.load(str(DEFAULT_INDEX))
    ours = load_index(DEFAULT_INDEX)
    assert [m.name for m in theirs.models] == [m.name for m in ours]
    for their, our in zip(theirs.models, ours):
        assert their.config == our.config and their.weights == our.weights
        assert their.in_collection == our.collection
        assert [(r.task, r.dataset, r.metrics) for r in their.results] == [
            (r.task, r.dataset, r.metrics) for r in our.results
        ]


def test_empty_index_says_nothing_is_released(tmp_path):
    index = load_index(write_index(tmp_path, []))
    assert len(index) == 0 and list(index) == []
    with pytest.raises(UnknownModelError, match='holds no model yet'):
        index.get('cluster-contrast_r50')


def test_env_var_selects_the_index(tmp_path, zoo_env, monkeypatch):
    path = write_index(tmp_path / 'mine',
                       [model_entry('tiny-a', 'http://h/a.pth', SHA)])
    monkeypatch.setenv(ENV_INDEX, str(path))
    assert index_path() == path
    assert load_index().names() == ['tiny-a']
    monkeypatch.delenv(ENV_INDEX)
    assert index_path() == DEFAULT_INDEX


def test_missing_index_names_the_env_var(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_INDEX, raising=False)
    with pytest.raises(FileNotFoundError, match=ENV_INDEX):
        load_index(tmp_path / 'nothing.yml')


def test_entry_fields_and_config_resolution(tmp_path):
    config = TINY_CONFIG
    index = load_index(
        write_index(tmp_path, [
            model_entry('tiny-abs', 'https://example.org/r/v1/abs.pth?x=1',
                        SHA.upper(), config=str(config)),
            model_entry('tiny-rel', 'https://example.org/r/v1/rel.pth', SHA2,
                        config='tests/data/configs/tiny_synthetic.py'),
        ]))
    assert index.names() == ['tiny-abs', 'tiny-rel']
    model = index.get('zoo://tiny-abs')
    assert model.sha256 == SHA  # normalised to lower case
    assert model.filename == 'abs.pth'
    assert model.collection == 'Tiny'
    assert model.metadata['Training Data'] == 'synthetic (no labels)'
    assert model.metadata['Training Resources'] == '1x CPU'
    (result, ) = model.results
    assert (result.task, result.dataset) == ('Person Re-Identification',
                                             'Synthetic')
    assert result.split == 'query / gallery'
    assert 'junk' in result.protocol
    assert result.metrics == {'mAP': 20.5, 'Rank-1': 33.1}
    assert index.config_path('tiny-abs') == config
    # Relative: not beside the index, found in this repository.
    assert index.config_path('tiny-rel') == config.resolve()


def test_missing_config_lists_where_it_looked(tmp_path):
    index = load_index(
        write_index(tmp_path, [
            model_entry('tiny', 'http://h/t.pth', SHA, config='configs/no.py')
        ]))
    with pytest.raises(FileNotFoundError, match='configs/no.py.*tried'):
        index.config_path('tiny')


def test_unknown_name_suggests_close_names(tmp_path):
    index = load_index(
        write_index(tmp_path, [
            model_entry('cluster-contrast_r50_market1501', 'http://h/a.pth',
                        SHA),
            model_entry('gracl_r50_market1501', 'http://h/b.pth', SHA2),
        ]))
    with pytest.raises(UnknownModelError) as err:
        index.get('cluster-contrast_r50_market')
    assert "did you mean 'cluster-contrast_r50_market1501'" in str(err.value)
    with pytest.raises(UnknownModelError, match='tools/model_zoo.py list'):
        index.get('zzzz')


def _entry_dict(**changes) -> dict:
    entry = yaml.safe_load(model_entry('tiny', 'http://h/t.pth', SHA))[0]
    entry.update(changes)
    return entry


@pytest.mark.parametrize('entry, message', [
    (_entry_dict(SHA256='1234'), 'SHA256 must be 64 hex'),
    (_entry_dict(Weights='ftp://h/t.pth'), 'Weights must be'),
    (_entry_dict(Name='has space'), 'model name'),
    (_entry_dict(Metadata={'Training Data': 'x'}), 'Training Resources'),
    (_entry_dict(Results=[{'Task': 't', 'Dataset': 'd', 'Metrics': {}}]),
     "missing 'Split'"),
    (_entry_dict(Results=[{'Task': 't', 'Dataset': 'd', 'Split': 's',
                           'Protocol': 'p', 'Metrics': {'mAP': 'high'}}]),
     'Metrics must map names to numbers'),
    (_entry_dict(**{'In Collection': 'Nope'}), "'Nope', which no metafile"),
])
def test_schema_errors_name_the_file_and_the_problem(tmp_path, entry,
                                                     message):
    metafile = tmp_path / 'meta.yml'
    atomic_write_bytes(
        yaml.safe_dump({'Collections': [{'Name': 'Tiny'}],
                        'Models': [entry]}).encode(), metafile)
    with pytest.raises(IndexFormatError, match=message) as err:
        load_index(metafile)
    assert str(metafile) in str(err.value)


def test_duplicate_names_and_file_names_are_refused(tmp_path):
    with pytest.raises(IndexFormatError, match='already declared'):
        load_index(write_index(tmp_path / 'a', [
            model_entry('tiny', 'http://h/a.pth', SHA),
            model_entry('tiny', 'http://h/b.pth', SHA2)]))
    with pytest.raises(IndexFormatError, match='same weights file name'):
        load_index(write_index(tmp_path / 'b', [
            model_entry('tiny-a', 'http://h/v1/t.pth', SHA),
            model_entry('tiny-b', 'http://h/v2/t.pth', SHA2)]))


def test_bad_top_level_and_missing_import(tmp_path):
    path = tmp_path / 'model-index.yml'
    atomic_write_bytes(b'Modles: []\n', path)
    with pytest.raises(IndexFormatError, match='unknown top-level keys'):
        load_index(path)
    atomic_write_bytes(
        textwrap.dedent('''\
        Import:
          - missing/metafile.yml
        ''').encode(), path)
    with pytest.raises(FileNotFoundError, match='missing/metafile.yml'):
        load_index(path)


def test_readme_example_follows_the_schema_and_is_not_released(tmp_path):
    readme = (REPO_ROOT / 'model_zoo' / 'README.md').read_text()
    block = readme.split('<!-- example-entry -->', 1)[1]
    block = block.split('```yaml\n', 1)[1].split('```', 1)[0]
    metafile = tmp_path / 'metafile.yml'
    atomic_write_bytes(
        ('Collections:\n  - Name: Cluster-Contrast\n' + block).encode(),
        metafile)
    (example, ) = load_index(metafile)
    assert example.config_path(None).is_file()
    assert example.results[0].protocol.endswith('last epoch')
    assert example.name not in ModelIndex.load(DEFAULT_INDEX)
