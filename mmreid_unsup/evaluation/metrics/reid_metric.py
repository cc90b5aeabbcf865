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
#: Zhong et al.'s test-time re-ranking setting (``rerank=True``).
DEFAULT_RERANK = dict(k1=20, k2=6, lambda_value=0.3)
#: Default queries per block: large blocks make the distance product
#: faster (the gallery is packed once per block); re-ranked blocks hold
#: several ``(B, G)`` float64 temporaries, hence fewer queries.
DEFAULT_CHUNK_SIZE = 1024
RERANK_CHUNK_SIZE = 256


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """mAP, CMC rank-k and mINP of query-to-gallery retrieval.

    Every evaluated sample carries its feature ``feat`` ``(D,)`` and the
    metainfo ``pid``, ``camid`` and ``is_query``; queries are ranked against
    the gallery (the samples with ``is_query=False``) by ``2 - 2 cos``, with
    same-identity same-camera gallery items removed. See
    :mod:`mmreid_unsup.evaluation.functional.ranking` for the definitions.

    Under DDP every rank processes its share of the test set and MMEngine
    gathers the samples (in dataset order) before :meth:`compute_metrics`
    runs on rank 0.

    Args:
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int, optional): queries ranked at once, which bounds
            memory to about ``6 x chunk_size x num_gallery`` bytes (``12 x``
            at worst, when true matches rank last). Defaults to None: 1024,
            or 256 with ``rerank``.
        rerank (bool | dict): rank by the k-reciprocal re-ranked distance
            (Zhong et al., CVPR 2017). True uses ``k1=20, k2=6,
            lambda_value=0.3``; a dict overrides some of them (and may set
            ``knn_backend``). Defaults to False.
        single_gallery_shot (bool): report the CMC of the classic CUHK03
            protocol (one gallery image per identity, averaged over
            ``num_repeats`` draws); mAP and mINP still use the whole gallery.
            Defaults to False (the Market-1501 / DukeMTMC / MSMT17 protocol).
        num_repeats (int): single-gallery-shot draws. Defaults to 10.
        seed (int): seed of the draws. Defaults to 0.
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
        >>> test_evaluator = dict(type='ReIDMetric', rerank=True)
    """

    default_prefix: Optional[str] = 'reid'

    def __init__(self,
                 topk: Sequence[int] = (1, 5, 10),
                 chunk_size: Optional[int] = None,
                 rerank: Union[bool, dict] = False,
                 single_gallery_shot: bool = False,
                 num_repeats: int = 10,
                 seed: int = 0,
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
        if isinstance(rerank, dict):
            unknown = set(rerank) - set(DEFAULT_RERANK) - {'knn_backend'}
            if unknown:
                raise ValueError(
                    f'ReIDMetric: unknown rerank option(s) {sorted(unknown)}; '
                    f'valid: {sorted(DEFAULT_RERANK)} and knn_backend')
            self.rerank = dict(DEFAULT_RERANK, **rerank)
        elif rerank:
            self.rerank = dict(DEFAULT_RERANK)
        else:
            self.rerank = None
        if chunk_size is None:
            chunk_size = (DEFAULT_CHUNK_SIZE
                          if self.rerank is None else RERANK_CHUNK_SIZE)
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        self.chunk_size = chunk_size
        self.single_gallery_shot = single_gallery_shot
        if num_repeats < 1:
            raise ValueError(f'num_repeats must be >= 1, got {num_repeats}')
        self.num_repeats = num_repeats
        self.seed = seed

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
        queries = [r for r in results if r['is_query']]
        gallery = [r for r in results if not r['is_query']]
        if not queries or not gallery:
            raise ValueError('ReIDMetric needs both query and gallery '
                             f'samples; got {len(queries)} queries '
                             f'out of {len(results)}')
        # One copy of the features, straight into the two parts.
        scores = evaluate_rank_from_features(
            torch.stack([r['feat'] for r in queries]),
            torch.stack([r['feat'] for r in gallery]),
            [r['pid'] for r in queries],
            [r['pid'] for r in gallery],
            [r['camid'] for r in queries],
            [r['camid'] for r in gallery],
            topk=self.topk,
            chunk_size=self.chunk_size,
            rerank=self.rerank,
            single_gallery_shot=self.single_gallery_shot,
            num_repeats=self.num_repeats,
            seed=self.seed)
        skipped = scores.pop('num_skipped_queries')
        valid = scores.pop('num_valid_queries')
        protocol = []
        if self.rerank is not None:
            protocol.append('re-ranked ({k1}, {k2}, {lambda_value})'.format(
                **self.rerank))
        if self.single_gallery_shot:
            protocol.append(
                f'single-gallery-shot CMC x{self.num_repeats}')
        print_log(
            f'ReIDMetric: {valid} queries x {len(gallery)} gallery '
            f'images; {skipped} queries skipped (no true match in the '
            'gallery)' + (f'; {", ".join(protocol)}' if protocol else ''),
            logger='current',
            level=logging.INFO if skipped == 0 else logging.WARNING)
        return scores
