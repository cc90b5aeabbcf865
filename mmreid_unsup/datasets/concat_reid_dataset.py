"""Several re-ID evaluation sets in one dataloader (cross-dataset testing)."""
from typing import List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset, ConcatDataset

from mmreid_unsup.registry import DATASETS

__all__ = ['ConcatReIDDataset']


@DATASETS.register_module()
class ConcatReIDDataset(ConcatDataset):
    """Evaluation sets one after the other, each ranked on its own.

    MMEngine's ``ConcatDataset`` with the boundaries made visible: its
    ``metainfo`` holds ``dataset_names`` and ``cumulative_sizes``, which
    :class:`~mmreid_unsup.evaluation.MultiDatasetsEvaluator` and the
    ranked-list hook use to keep every set's queries and gallery apart. The
    sets' own metainfo (name, split, subset...) may differ.

    Example::

        test_dataloader = dict(dataset=dict(
            type='ConcatReIDDataset',
            datasets=[market_test, duke_test],
            names=['market1501', 'dukemtmc']))
        test_evaluator = dict(type='MultiDatasetsEvaluator',
                              metrics=dict(type='ReIDMetric'))

    Args:
        datasets (Sequence[BaseDataset | dict]): the sets or their configs.
        names (Sequence[str], optional): one short name per set, used as
            metric prefixes. Defaults to each set's ``dataset_name``
            (made unique by ``_2``, ``_3``... suffixes).
        lazy_init (bool): load the sets later. Defaults to False.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 names: Optional[Sequence[str]] = None,
                 lazy_init: bool = False) -> None:
        if not datasets:
            raise ValueError('ConcatReIDDataset: `datasets` is empty')
        built = [
            DATASETS.build(d) if isinstance(d, dict) else d for d in datasets
        ]
        keys = sorted(set().union(*(d.metainfo.keys() for d in built)))
        super().__init__(built, lazy_init=lazy_init, ignore_keys=keys)
        if names is None:
            names = self._unique(
                [d.metainfo.get('dataset_name', type(d).__name__)
                 for d in built])
        names = list(names)
        if len(names) != len(built) or len(set(names)) != len(names):
            raise ValueError(
                f'ConcatReIDDataset: names must be {len(built)} distinct '
                f'strings, one per dataset; got {names}')
        self.names = names

    @staticmethod
    def _unique(names: List[str]) -> List[str]:
        seen: dict = {}
        out = []
        for name in names:
            seen[name] = seen.get(name, 0) + 1
            out.append(name if seen[name] == 1 else f'{name}_{seen[name]}')
        return out

    @property
    def metainfo(self) -> dict:
        """dict: the first set's metainfo plus ``dataset_names`` and
        ``cumulative_sizes`` (sizes after ``full_init``)."""
        meta = super().metainfo
        meta['dataset_name'] = 'ConcatReIDDataset'
        meta['dataset_names'] = list(self.names)
        if self._fully_initialized:
            meta['cumulative_sizes'] = list(self.cumulative_sizes)
        return meta
