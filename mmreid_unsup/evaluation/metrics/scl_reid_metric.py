"""Re-ID metric with SCL's reference test-time distance."""
from typing import Any, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from mmreid_unsup.registry import METRICS
from ..functional import evaluate_rank

__all__ = ['SCLReIDMetric']

_REQUIRED_KEYS = ('global_feat', 'local_feat', 'pid', 'camid', 'is_query')


@METRICS.register_module()
class SCLReIDMetric(BaseMetric):
    """mAP / CMC / mINP ranked by SCL's reference distance.

    SCL's evaluation (``utils/reid_metric.py`` of ``pangbo1997/Unsup_ReID``)
    mixes non-squared Euclidean distances of the global feature and of each
    stripe, and adds a camera term::

        d(q, g) = lambda_g * ||g_q - g_g||
                  + (1 - lambda_g) / S * sum_s ||l_qs - l_gs||
                  + lambda_c * [cam_q == cam_g]

    The ranking rules are :class:`ReIDMetric`'s (same-identity same-camera
    gallery items removed, cumulative-precision AP, which is also the
    reference's ``eval_func``). Use it beside ``ReIDMetric`` (the common
    protocol) with another ``prefix``; the model must attach
    ``global_feat`` ``(Dg,)`` and ``local_feat`` ``(S, Dl)`` to its data
    samples (``SCL.predict`` does).

    Args:
        lambda_g (float): Weight of the global distance. Defaults to 0.5.
        lambda_c (float): Added to same-camera distances. Defaults to 0.05.
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int): Queries ranked at once. Defaults to 256.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'scl'`` (``scl/mAP``, ``scl/rank1``, ...).
        collect_dir (str, optional): Directory to gather results through
            when ``collect_device='cpu'``. Defaults to None.
    """

    default_prefix = 'scl'

    def __init__(self,
                 lambda_g: float = 0.5,
                 lambda_c: float = 0.05,
                 topk: Sequence[int] = (1, 5, 10),
                 chunk_size: int = 256,
                 collect_device: str = 'cpu',
                 prefix: Union[str, None] = None,
                 collect_dir: Union[str, None] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if not 0.0 <= lambda_g <= 1.0:
            raise ValueError(
                f'SCLReIDMetric: lambda_g must be in [0, 1], got {lambda_g}')
        self.lambda_g = lambda_g
        self.lambda_c = lambda_c
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        self.chunk_size = chunk_size

    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Store each sample's global and stripe features and labels."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [key for key in _REQUIRED_KEYS if key not in sample]
            if missing:
                raise KeyError(
                    f'SCLReIDMetric needs {_REQUIRED_KEYS} in every data '
                    f'sample; missing {missing}: is the model SCL?')
            self.results.append(
                dict(
                    global_feat=torch.as_tensor(
                        sample['global_feat']).detach().float().cpu(),
                    local_feat=torch.as_tensor(
                        sample['local_feat']).detach().float().cpu(),
                    pid=int(sample['pid']),
                    camid=int(sample['camid']),
                    is_query=bool(sample['is_query'])))

    def distance(self, q_global: torch.Tensor, q_local: torch.Tensor,
                 q_camids: torch.Tensor, g_global: torch.Tensor,
                 g_local: torch.Tensor,
                 g_camids: torch.Tensor) -> torch.Tensor:
        """The reference distance between queries and gallery items.

        Args:
            q_global (Tensor): ``(Q, Dg)``.
            q_local (Tensor): ``(Q, S, Dl)``.
            q_camids (Tensor): ``(Q,)``.
            g_global (Tensor): ``(G, Dg)``.
            g_local (Tensor): ``(G, S, Dl)``.
            g_camids (Tensor): ``(G,)``.

        Returns:
            Tensor: ``(Q, G)`` distances.
        """
        dist = self.lambda_g * torch.cdist(q_global, g_global)
        num_stripes = q_local.size(1)
        local = sum(
            torch.cdist(q_local[:, s], g_local[:, s])
            for s in range(num_stripes))
        dist += (1 - self.lambda_g) / num_stripes * local
        same_cam = q_camids.unsqueeze(1) == g_camids.unsqueeze(0)
        return dist + self.lambda_c * same_cam.float()

    def compute_metrics(self, results: list) -> dict:
        """Rank every query against the gallery by the reference distance.

        Args:
            results (list[dict]): The stored samples of the whole set.

        Returns:
            dict[str, float]: ``mAP``, ``rank{k}`` and ``mINP`` in percent.
        """
        global_feats = torch.stack([r['global_feat'] for r in results])
        local_feats = torch.stack([r['local_feat'] for r in results])
        pids = torch.tensor([r['pid'] for r in results])
        camids = torch.tensor([r['camid'] for r in results])
        is_query = torch.tensor([r['is_query'] for r in results])
        if is_query.all() or not is_query.any():
            raise ValueError('SCLReIDMetric needs both query and gallery '
                             f'samples; got {int(is_query.sum())} queries '
                             f'out of {len(results)}')
        gallery = ~is_query
        blocks = []
        q_idx = torch.nonzero(is_query).flatten()
        for start in range(0, q_idx.numel(), self.chunk_size):
            rows = q_idx[start:start + self.chunk_size]
            blocks.append(
                self.distance(global_feats[rows], local_feats[rows],
                              camids[rows], global_feats[gallery],
                              local_feats[gallery], camids[gallery]))
        scores = evaluate_rank(
            torch.cat(blocks),
            pids[is_query],
            pids[gallery],
            camids[is_query],
            camids[gallery],
            topk=self.topk,
            chunk_size=self.chunk_size)
        scores.pop('num_skipped_queries', None)
        scores.pop('num_valid_queries', None)
        return scores
