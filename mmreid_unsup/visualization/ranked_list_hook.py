"""Write ranked-list pictures of the test set after testing."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook

from mmreid_unsup.ops import k_reciprocal_rerank_blocks
from mmreid_unsup.registry import HOOKS
from ..evaluation.functional import feature_distance_blocks
from .ranked_list import (RankedListLayout, draw_ranked_list,
                          gallery_statuses, read_rgb)

__all__ = ['RankedListVisualizationHook']


@HOOKS.register_module()
class RankedListVisualizationHook(Hook):
    """Draw each of some queries with its top-ranked gallery images.

    During the test loop the hook keeps every sample's feature, identity,
    camera and image path (gathered across ranks, like the metric); after it
    ranks the gallery for ``num_queries`` queries spread evenly over the
    query list and writes one PNG per query: the query framed blue, true
    matches green, false matches red, junk (same identity and camera, not
    counted by the metric) grey. With a
    :class:`~mmreid_unsup.datasets.ConcatReIDDataset` each set is ranked on
    its own and written to its own sub-folder.

    ``tools/test.py --show-dir DIR`` adds this hook. To use it from a
    config, import its package: ``custom_imports =
    dict(imports=['mmreid_unsup.visualization'])``.

    Args:
        out_dir (str, optional): where to write the PNGs. None sends the
            pictures to the runner's visualizer backends instead.
        topk (int): gallery images per picture (junk included).
            Defaults to 10.
        num_queries (int): pictures per evaluation set. Defaults to 20.
        rerank (dict, optional): rank by the re-ranked distance, with these
            arguments (``{}`` for the defaults), as ``ReIDMetric(rerank=...)``
            does. Defaults to None.
        cell_size (tuple[int, int]): ``(height, width)`` of each image in
            the picture. Defaults to (128, 64).
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 topk: int = 10,
                 num_queries: int = 20,
                 rerank: Optional[dict] = None,
                 cell_size: Tuple[int, int] = (128, 64)) -> None:
        if topk < 1 or num_queries < 1:
            raise ValueError('RankedListVisualizationHook: topk and '
                             f'num_queries must be >= 1, got {topk} and '
                             f'{num_queries}')
        self.out_dir = out_dir
        self.topk = topk
        self.num_queries = num_queries
        self.rerank = rerank
        self.layout = RankedListLayout(cell_size=tuple(cell_size))
        self._results: List[dict] = []

    def before_test_epoch(self, runner) -> None:
        self._results = []

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            self._results.append(
                dict(
                    feat=sample.feat.detach().float().cpu(),
                    pid=int(sample.pid),
                    camid=int(sample.camid),
                    is_query=bool(sample.is_query),
                    img_path=str(sample.img_path)))

    def after_test_epoch(self, runner, metrics=None) -> None:
        dataset = runner.test_dataloader.dataset
        results = collect_results(self._results, len(dataset), 'cpu')
        self._results = []
        if not is_main_process():
            return
        meta = getattr(dataset, 'metainfo', {}) or {}
        sizes = meta.get('cumulative_sizes', [len(results)])
        names = meta.get('dataset_names', [None] * len(sizes))
        written = 0
        for name, start, stop in zip(names, [0] + list(sizes[:-1]), sizes):
            written += self._draw_set(runner, results[start:stop], name)
        where = self.out_dir or 'the visualizer backends'
        runner.logger.info(
            f'RankedListVisualizationHook: {written} ranked lists -> {where}')

    def _ranked(self, feats: torch.Tensor, is_query: torch.Tensor,
                chosen: np.ndarray) -> torch.Tensor:
        """``(len(chosen), topk)`` gallery positions of the best results."""
        q_feats, g_feats = feats[is_query], feats[~is_query]
        if self.rerank is not None:
            rows = []
            wanted = set(chosen.tolist())
            for start, block in k_reciprocal_rerank_blocks(
                    q_feats, g_feats, **self.rerank):
                for i in range(block.size(0)):
                    if start + i in wanted:
                        rows.append(block[i])
            dist = torch.stack(rows)
        else:
            dist = torch.cat([
                block
                for _, block in feature_distance_blocks(
                    q_feats[torch.from_numpy(chosen)], g_feats)
            ])
        order = torch.sort(dist, dim=1, stable=True).indices
        return order[:, :self.topk]

    def _draw_set(self, runner, results: List[dict],
                  name: Optional[str]) -> int:
        is_query = torch.tensor([r['is_query'] for r in results])
        queries = [r for r in results if r['is_query']]
        gallery = [r for r in results if not r['is_query']]
        if not queries or not gallery:
            runner.logger.warning(
                'RankedListVisualizationHook: no queries or no gallery in '
                f'{name or "the test set"}; nothing drawn')
            return 0
        feats = torch.stack([r['feat'] for r in results])
        chosen = np.unique(
            np.linspace(0, len(queries) - 1,
                        min(self.num_queries, len(queries))).round().astype(
                            np.int64))
        top = self._ranked(feats, is_query, chosen)
        out_dir = self.out_dir
        if out_dir is not None and name is not None:
            out_dir = osp.join(out_dir, name)
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
        for q_index, ranked in zip(chosen.tolist(), top.tolist()):
            query = queries[q_index]
            items = [gallery[g] for g in ranked]
            statuses, labels = gallery_statuses(
                query['pid'], query['camid'], [g['pid'] for g in items],
                [g['camid'] for g in items])
            canvas = draw_ranked_list(
                read_rgb(query['img_path']),
                [read_rgb(g['img_path']) for g in items],
                statuses,
                labels,
                query_label=f'id {query["pid"]}',
                layout=self.layout)
            stem = osp.splitext(osp.basename(query['img_path']))[0]
            file_name = f'{q_index:05d}_{stem}.png'
            if out_dir is not None:
                cv2.imwrite(
                    osp.join(out_dir, file_name),
                    cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
            else:
                prefix = f'{name}/' if name else ''
                runner.visualizer.add_image(
                    f'ranked_list/{prefix}{stem}', canvas, step=runner.iter)
        return len(chosen)
