"""The synthetic demo set."""
from mmreid_unsup.registry import DATASETS
from .market1501 import Market1501


@DATASETS.register_module()
class SyntheticReID(Market1501):
    """The synthetic multi-camera pedestrians of
    :func:`mmreid_unsup.datasets.synthetic.generate_synthetic_reid`.

    They are written in Market-1501's layout and naming, so this is
    :class:`Market1501` with its own name and default root. Create the
    images with ``python -m mmreid_unsup.datasets.synthetic --out
    data/synthetic_reid``.

    Args:
        data_root (str): The folder the generator wrote.
            Defaults to ``'data/synthetic_reid'``.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='SyntheticReID')

    def __init__(self, data_root: str = 'data/synthetic_reid', **kwargs):
        super().__init__(data_root=data_root, **kwargs)

    def describe_split(self, split: str) -> str:
        return (f'{super().describe_split(split)} (create the set with '
                f'`python -m mmreid_unsup.datasets.synthetic --out '
                f'{self.data_root}`)')
