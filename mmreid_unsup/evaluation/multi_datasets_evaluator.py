"""One evaluator for several evaluation sets in one dataloader."""
from collections import OrderedDict
from typing import List, Optional, Sequence, Union

from mmengine.dist import broadcast_object_list, collect_results, \
    is_main_process
from mmengine.evaluator import BaseMetric, Evaluator

from mmreid_unsup.registry import EVALUATOR, METRICS

__all__ = ['MultiDatasetsEvaluator']


@EVALUATOR.register_module()
class MultiDatasetsEvaluator(Evaluator):
    """Evaluate each set of a :class:`~mmreid_unsup.datasets.ConcatReIDDataset`
    on its own (cross-dataset testing in one run).

    The metrics process the concatenated sets as usual; at the end the
    gathered results (in dataset order) are cut at the dataset's
    ``cumulative_sizes`` and every metric computes its scores on each part,
    so each set's queries are ranked against its own gallery only. The keys
    read ``{dataset}/{metric prefix}/{name}``, e.g. ``market1501/reid/mAP``.

    Args:
        metrics (dict | BaseMetric | Sequence): the metrics, as for
            :class:`mmengine.evaluator.Evaluator`.
        dataset_prefixes (Sequence[str], optional): one prefix per set.
            Defaults to the dataset's ``dataset_names``.
    """

    def __init__(self,
                 metrics: Union[dict, BaseMetric, Sequence],
                 dataset_prefixes: Optional[Sequence[str]] = None) -> None:
        # Build metric configs in this package's registry, so ReIDMetric is
        # found whatever the default scope.
        if not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        super().__init__([
            METRICS.build(m) if isinstance(m, dict) else m for m in metrics
        ])
        self.dataset_prefixes = (
            list(dataset_prefixes) if dataset_prefixes is not None else None)

    def _parts(self, size: int) -> List[tuple]:
        """``(prefix, start, stop)`` of every set."""
        meta = self.dataset_meta or {}
        sizes = meta.get('cumulative_sizes')
        if sizes is None:
            raise ValueError(
                'MultiDatasetsEvaluator needs a dataset whose metainfo has '
                "'cumulative_sizes' (use ConcatReIDDataset); the dataset's "
                f'metainfo has {sorted(meta)}')
        prefixes = self.dataset_prefixes or meta.get('dataset_names')
        if prefixes is None or len(prefixes) != len(sizes):
            raise ValueError(
                f'MultiDatasetsEvaluator: {len(sizes)} datasets but '
                f'dataset_prefixes={prefixes}')
        if sizes[-1] != size:
            raise ValueError(
                f'MultiDatasetsEvaluator: the datasets hold {sizes[-1]} '
                f'samples but {size} were evaluated')
        starts = [0] + list(sizes[:-1])
        return list(zip(prefixes, starts, sizes))

    def evaluate(self, size: int) -> dict:
        """Scores of every metric on every set.

        Args:
            size (int): the number of samples of all sets together.

        Returns:
            dict: ``{dataset}/{metric prefix}/{name}`` -> value, on every
            rank.
        """
        parts = self._parts(size)
        scores: dict = OrderedDict()
        for metric in self.metrics:
            results = collect_results(metric.results, size,
                                      metric.collect_device)
            if is_main_process():
                for prefix, start, stop in parts:
                    part = metric.compute_metrics(results[start:stop])
                    for name, value in part.items():
                        key = (f'{metric.prefix}/{name}'
                               if metric.prefix else name)
                        key = f'{prefix}/{key}'
                        if key in scores:
                            raise ValueError(
                                f'MultiDatasetsEvaluator: two metrics '
                                f'report {key!r}; give them different '
                                'prefixes')
                        scores[key] = value
            metric.results.clear()
        shared = [scores if is_main_process() else None]
        broadcast_object_list(shared)
        return shared[0]
