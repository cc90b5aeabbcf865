"""Re-ID retrieval metric for MMEngine's evaluator."""
import logging
from typing import Any, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmreid_unsup.registry import METRICS
from ..functional import evaluate_rank_from_features

__all__ = ['ReIDMetric']

_REQUIRED_KEYS = ('feat', 'pid', 'camid', 'is_query')


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """mAP, CMC rank-k and mINP of query-to-gallery retrieval.

    Every evaluated sample carries its feature ``feat`` ``(D,)`` and the
    metainfo ``pid``, ``camid`` and ``is_query``; queries are ranked against
    the gallery (the samples with ``is_query=False``) by ``2 - 2 cos``, with
    same-identity same-camera gallery items removed. See
    :mod:`mmreid_unsup.evaluation.functional.ranking` for the definitions.

    Args:
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int): queries ranked at once, which bounds memory to
            ``chunk_size x num_gallery`` distances. Defaults to 256.
        collect_device (str): device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): prefix of the metric names. Defaults to
            ``'reid'``.
        collect_dir (str, optional): directory to gather results through
            when ``collect_device='cpu'``. Defaults to None.

    Example:
        >>> val_evaluator = dict(type='ReIDMetric', topk=(1, 5, 10))
        >>> # -> {'reid/mAP': ..., 'reid/rank1': ..., 'reid/rank5': ...,
        >>> #     'reid/rank10': ..., 'reid/mINP': ...}  (percent)
    """

    default_prefix: Optional[str] = 'reid'

    def __init__(self,
                 topk: Sequence[int] = (1, 5, 10),
                 chunk_size: int = 256,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if isinstance(topk, int):
            topk = (topk, )
        if not topk or any(k < 1 for k in topk):
            raise ValueError(f'topk must be positive ranks, got {topk}')
        self.topk = tuple(topk)
        self.chunk_size = chunk_size

    @staticmethod
    def _fields(sample: Union[dict, BaseDataElement]) -> dict:
        """Read ``feat, pid, camid, is_query`` from a sample or its dict."""
        if isinstance(sample, BaseDataElement):
            sample = sample.to_dict()
        missing = [key for key in _REQUIRED_KEYS if key not in sample]
        if missing:
            raise KeyError(f'ReIDMetric needs {_REQUIRED_KEYS} in every data '
                           f'sample; missing {missing} (got '
                           f'{sorted(sample)})')
        return {key: sample[key] for key in _REQUIRED_KEYS}

    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Store each sample's feature (on CPU) and labels.

        Args:
            data_batch (Any): the batch from the dataloader (unused).
            data_samples (Sequence[dict | BaseDataElement]): the model's
                outputs: ``ReIDDataSample`` objects, or the dicts MMEngine's
                ``Evaluator`` makes of them.
        """
        for sample in data_samples:
            fields = self._fields(sample)
            self.results.append(
                dict(
                    feat=torch.as_tensor(
                        fields['feat']).detach().float().cpu().flatten(),
                    pid=int(fields['pid']),
                    camid=int(fields['camid']),
                    is_query=bool(fields['is_query'])))

    def compute_metrics(self, results: list) -> dict:
        """Rank every query against the gallery.

        Args:
            results (list[dict]): the stored samples of the whole set.

        Returns:
            dict[str, float]: ``mAP``, ``rank{k}`` for each ``k`` in
            ``topk`` and ``mINP``, in percent.
        """
        feats = torch.stack([r['feat'] for r in results])
        pids = torch.tensor([r['pid'] for r in results])
        camids = torch.tensor([r['camid'] for r in results])
        is_query = torch.tensor([r['is_query'] for r in results])
        if is_query.all() or not is_query.any():
            raise ValueError('ReIDMetric needs both query and gallery '
                             f'samples; got {int(is_query.sum())} queries '
                             f'out of {len(results)}')
        is_gallery = ~is_query
        scores = evaluate_rank_from_features(
            feats[is_query],
            feats[is_gallery],
            pids[is_query],
            pids[is_gallery],
            camids[is_query],
            camids[is_gallery],
            topk=self.topk,
            chunk_size=self.chunk_size)
        skipped = scores.pop('num_skipped_queries')
        valid = scores.pop('num_valid_queries')
        print_log(
            f'ReIDMetric: {valid} queries x {int(is_gallery.sum())} gallery '
            f'images; {skipped} queries skipped (no true match in the '
            'gallery)',
            logger='current',
            level=logging.INFO if skipped == 0 else logging.WARNING)
        return scores
