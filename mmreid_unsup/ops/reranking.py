"""k-reciprocal re-ranking at test time (Zhong et al., CVPR 2017).

The queries and the gallery form one set of ``N = Q + G`` images. The
k-reciprocal encoding ``V`` of every image is built by the stage functions of
:mod:`mmreid_unsup.ops.k_reciprocal` (the ones pseudo labelling uses): the
``k1`` nearest neighbours, the expanded k-reciprocal sets,
``V[i, j] = softmax_j(-d_ij)`` over them, then the local query expansion
over the ``k2`` nearest neighbours. The final distance of query
``q`` to gallery image ``g`` is

``(1 - lambda) * J(q, g) + lambda * d(q, g) / max_j d(q, j)``

with ``J`` the Jaccard distance ``1 - m / (2 - m)``,
``m = sum_k min(V_qk, V_gk)``, and ``d = 2 - 2 cos`` the squared Euclidean
distance of the L2-normalised features, scaled by its largest value over
all ``N`` images of the query's row, as in the authors' code.

Two details follow the shared pseudo-labelling stages rather than the
authors' script (Cluster-Contrast's variant): the neighbour lists hold ``k1``
images (the authors' hold ``k1 + 1``), and the encoding weighs neighbours by
``exp(-d)`` of the unscaled distance.

Only ``(B, G)`` blocks of the final distance exist at any time, so the
memory does not grow with ``Q x G``; the encoding itself is sparse. The
metric (``ReIDMetric(rerank=...)``) and the ranked-list pictures rank with
:func:`k_reciprocal_rerank_blocks`.
"""
from typing import Iterator, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .jaccard_distance import min_sums, row_chunks
from .k_reciprocal import k_reciprocal_encoding, local_query_expansion
from .knn import knn_search

__all__ = ['k_reciprocal_rerank_blocks', 'k_reciprocal_rerank']

#: ``(query, gallery)`` pairs whose minimum is accumulated at once.
_MAX_PAIRS = 1 << 23


def k_reciprocal_rerank_blocks(q_feats: torch.Tensor,
                               g_feats: torch.Tensor,
                               k1: int = 20,
                               k2: int = 6,
                               lambda_value: float = 0.3,
                               chunk_size: int = 256,
                               knn_backend: str = 'exact'
                               ) -> Iterator[Tuple[int, torch.Tensor]]:
    """The re-ranked query-gallery distance, a block of queries at a time.

    Args:
        q_feats (Tensor): ``(Q, D)`` query features.
        g_feats (Tensor): ``(G, D)`` gallery features.
        k1 (int): k-reciprocal neighbourhood size. Defaults to 20.
        k2 (int): neighbours of the local query expansion (1 disables it).
            Defaults to 6.
        lambda_value (float): weight of the original distance, in
            ``[0, 1]``. Defaults to 0.3.
        chunk_size (int): at most this many queries per block. Defaults to
            256.
        knn_backend (str): ``'exact'``, ``'auto'``, ``'faiss'``,
            ``'torch'``, ``'torch_bf16'`` or ``'faiss_hnsw'``, see
            :func:`~mmreid_unsup.ops.knn.knn_search`. Defaults to
            ``'exact'``: the evaluation stays exact at every size (``'auto'``
            would search approximately above
            :data:`~mmreid_unsup.ops.knn.APPROXIMATE_ABOVE` query and gallery
            samples on the CPU).

    Yields:
        tuple[int, Tensor]: the block's first query and its ``(B, G)``
        float32 distances, on the features' device.

    Raises:
        ValueError: on invalid ``k1``, ``k2`` or ``lambda_value``.
    """
    if not 0 <= lambda_value <= 1:
        raise ValueError(
            f'rerank: lambda_value must lie in [0, 1], got {lambda_value}')
    q_feats = F.normalize(torch.as_tensor(q_feats).detach().float(), dim=1)
    g_feats = F.normalize(torch.as_tensor(g_feats).detach().float(), dim=1)
    feats = torch.cat([q_feats, g_feats])
    num_query, num = q_feats.size(0), feats.size(0)
    if not 1 <= k2 <= k1 <= num:
        raise ValueError('rerank: need 1 <= k2 <= k1 <= number of query + '
                         f'gallery images ({num}), got k1={k1}, k2={k2}')

    _, initial_rank = knn_search(feats, k1, backend=knn_backend)
    initial_rank = initial_rank.cpu().numpy()
    encoding = k_reciprocal_encoding(feats, initial_rank, k1)
    encoding = local_query_expansion(encoding, initial_rank, k2).tocsr()
    del initial_rank
    encoding.eliminate_zeros()
    encoding.sort_indices()
    queries = encoding[:num_query]
    gallery = encoding[num_query:].tocsc()
    gallery.sort_indices()
    del encoding

    # Work per query row, to bound each block's temporary arrays.
    gallery_per_col = np.diff(gallery.indptr)
    pair_counts = np.bincount(
        np.repeat(np.arange(num_query), np.diff(queries.indptr)),
        weights=gallery_per_col[queries.indices],
        minlength=num_query)
    feats_t = feats.t().contiguous()
    for start, stop in row_chunks(pair_counts, _MAX_PAIRS, chunk_size):
        sums = torch.from_numpy(min_sums(queries, gallery, start, stop))
        jaccard = (1 - sums / (2 - sums)).clamp_(min=0).float()
        original = (2 - 2 * q_feats[start:stop] @ feats_t).clamp_(min=0)
        original /= original.max(dim=1, keepdim=True).values.clamp_(
            min=torch.finfo(torch.float32).tiny)
        block = jaccard.to(original.device).mul_(1 - lambda_value)
        block.add_(original[:, num_query:], alpha=lambda_value)
        yield start, block


def k_reciprocal_rerank(q_feats: torch.Tensor,
                        g_feats: torch.Tensor,
                        k1: int = 20,
                        k2: int = 6,
                        lambda_value: float = 0.3,
                        knn_backend: str = 'exact') -> torch.Tensor:
    """The whole re-ranked ``(Q, G)`` distance matrix (for small sets; the
    metric uses :func:`k_reciprocal_rerank_blocks`).

    Args:
        q_feats (Tensor): ``(Q, D)`` query features.
        g_feats (Tensor): ``(G, D)`` gallery features.
        k1, k2, lambda_value, knn_backend: see
            :func:`k_reciprocal_rerank_blocks`.

    Returns:
        Tensor: ``(Q, G)`` float32 distances.
    """
    blocks = k_reciprocal_rerank_blocks(
        q_feats,
        g_feats,
        k1=k1,
        k2=k2,
        lambda_value=lambda_value,
        knn_backend=knn_backend)
    return torch.cat([block for _, block in blocks])
