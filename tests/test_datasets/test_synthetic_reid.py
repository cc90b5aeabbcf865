import pytest

from mmreid_unsup.datasets import Market1501, SyntheticReID


def test_is_market_with_own_name(market_root):
    ds = SyntheticReID(data_root=str(market_root), split='test')
    assert isinstance(ds, Market1501)
    assert len(ds) == len(Market1501(data_root=str(market_root),
                                     split='test'))
    assert ds.metainfo['dataset_name'] == 'SyntheticReID'


def test_missing_set_says_how_to_generate(tmp_path):
    root = tmp_path / 'synthetic'
    with pytest.raises(FileNotFoundError) as err:
        SyntheticReID(data_root=str(root))
    assert str(root / 'bounding_box_train') in str(err.value)
    assert f'python -m mmreid_unsup.datasets.synthetic --out {root}' in str(
        err.value)


def test_default_root():
    ds = SyntheticReID(lazy_init=True)
    assert ds.data_root == 'data/synthetic_reid'
