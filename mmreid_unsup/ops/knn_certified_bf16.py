"""The ``'torch_bf16'`` kNN backend: bfloat16 candidates, float32 certificate.

On CPUs with native bfloat16 dot products (AVX512-BF16, AMX) a bfloat16
matrix product runs about four times faster than a float32 one: on the
development machine 873 against 214 GFLOPS for a 4096 x 2048 x 4096 block.
The float32 search of :func:`~mmreid_unsup.ops.knn_torch.torch_knn` is
dominated by that product, so this backend searches in bfloat16 and proves,
row by row, that the result is the float32 one.

1. **Candidates.** The symmetric blocked search of ``torch_knn``, on the
   features rounded to bfloat16, keeps the ``k + margin`` most similar
   samples of every row.
2. **Exact similarities.** The candidates' similarities are recomputed in
   float32 from the original features and the ``k`` best are kept, ties cut
   by index as in :mod:`~mmreid_unsup.ops.knn_ordering`.
3. **Certificate.** Every bfloat16 similarity is within a bound ``e_i`` of
   the exact one (below). A sample left out of row ``i``'s candidates has a
   bfloat16 similarity of at most the row's last candidate's, ``t_i``, so an
   exact similarity of at most ``t_i + e_i``. When the ``k``-th exact
   similarity among the candidates is larger than that, no sample left out
   can belong to the ``k`` nearest: the row is exact.
4. **Exhaustive rows.** A row without the certificate is searched again in
   bfloat16 against every sample; every sample whose bfloat16 similarity
   reaches ``s_k - e_i`` (``s_k`` the ``k``-th exact similarity found so
   far, a lower bound of the true one) is re-scored in float32. That set
   contains the true ``k`` nearest, so these rows are exact too.

The bound. With ``x = x' + dx`` the bfloat16 rounding of a feature and its
error, ``x . y - x' . y' = x' . dy + dx . y' + dx . dy``, so by
Cauchy-Schwarz the inputs' rounding costs at most
``|x'| |dy| + |dx| |y'| + |dx| |dy|``, taken against the largest ``|dy|``
and ``|y'|`` of the set. Products of bfloat16 numbers are exact in float32
and are accumulated in float32 (at most ``D 2^-24 |x'| |y'|``), then the
sum is rounded to bfloat16: half a unit in the last place, ``2^-9`` below
similarity 1 (``2^-8`` above). On 2048-d unit features the bound is about
0.0055 in all. On the MSMT17-size benchmark (N = 32,621, k = 30) 16 spare
candidates certified 81 % of the rows in the first pass, the default 32
certified 98.3 % (553 rows searched again), and the whole search took 7.1 s
where the float32 one took 14.4 s (2-core x86_64 VM with AVX512-BF16,
``benchmarks/pseudo_labels.py``).

Steps 1 and 2-4 can be split: :func:`bf16_candidates` over any subset of
the blocks (whose lists merge by their largest values), then
:func:`certified_rows` for any block of rows. Since the certified result of
a row is the exact top ``k`` of its exact similarities, it does not depend
on which candidates the row had; the ranks of a process group split the
search this way (:mod:`~mmreid_unsup.pseudo_labels.sharded_knn`).

The result follows the ordering contract of
:mod:`~mmreid_unsup.ops.knn_ordering`; it is the float32 search's result up
to float32 rounding (the exact similarities are computed pair by pair, not
by one matrix product, so two neighbours whose float32 similarities differ
in the last bit may swap places, as between the faiss and torch backends).
"""
from typing import Iterable, Optional, Tuple

import torch

from mmreid_unsup.registry import KNN_BACKENDS
from .feature_rows import pair_inner_products
from .knn_ordering import (MAX_CHUNK_ELEMENTS, check_knn_inputs,
                           lexicographic_topk, sort_and_put_self_first,
                           symmetric_block_products, upper_block_pairs)

__all__ = [
    'bf16_knn', 'bf16_rounding_bound', 'fast_bfloat16_matmul',
    'bf16_candidates', 'certified_rows', 'BF16_BLOCK', 'BF16_MARGIN'
]

#: Unit roundoff of float32 (its products' accumulation).
_FLOAT32_UNIT = 2.0**-24
#: Rows per block of the bfloat16 pass: 128 MB blocks, which ran 11 % faster
#: than 4096-row ones at N = 32,621 on the development machine.
BF16_BLOCK = 8192
#: Candidates kept beyond ``k`` in the bfloat16 pass by default.
BF16_MARGIN = 32


def bf16_rounding_bound(features: torch.Tensor, low: torch.Tensor,
                        chunk_rows: int = 4096) -> torch.Tensor:
    """Per-row bound on ``|bf16 similarity - exact similarity|``.

    Args:
        features (Tensor): ``(N, D)`` float32 features.
        low (Tensor): ``(N, D)`` their bfloat16 rounding.
        chunk_rows (int): rows converted back to float32 at once (the
            bound needs no full float32 copy). Defaults to 4096.

    Returns:
        Tensor: ``(N,)`` float32 ``e_i`` bounding the error of the bfloat16
        product of row ``i`` with any row of the set, before the final
        rounding of the sum to bfloat16 (see the module docstring).
    """
    low_norm, error_norm = [], []
    for start in range(0, features.size(0), chunk_rows):
        low_f = low[start:start + chunk_rows].float()
        low_norm.append(torch.linalg.vector_norm(low_f, dim=1))
        error_norm.append(torch.linalg.vector_norm(
            features[start:start + chunk_rows] - low_f, dim=1))
    low_norm, error_norm = torch.cat(low_norm), torch.cat(error_norm)
    max_low, max_error = low_norm.max(), error_norm.max()
    accumulation = features.size(1) * _FLOAT32_UNIT * low_norm * max_low
    return (low_norm * max_error + error_norm * max_low +
            error_norm * max_error + accumulation)


def _output_rounding(sims: torch.Tensor) -> torch.Tensor:
    """Half a bfloat16 ulp at ``sims``: ``2^-9`` below 1, ``2^-8`` to 2."""
    return torch.where(sims.abs() < 1, 2.0**-9, 2.0**-8)


def bf16_candidates(
    low: torch.Tensor,
    num_candidates: int,
    block: int = BF16_BLOCK,
    block_pairs: Optional[Iterable[Tuple[slice, slice]]] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``num_candidates`` largest bfloat16 similarities of every row.

    Symmetric like :func:`~mmreid_unsup.ops.knn_torch.torch_knn`: each
    block above the diagonal serves its rows and, transposed into a reused
    buffer, its columns.

    Args:
        low (Tensor): ``(N, D)`` bfloat16 features.
        num_candidates (int): ``C``, candidates kept per row.
        block (int): rows per block. Defaults to :data:`BF16_BLOCK`.
        block_pairs (Iterable[tuple[slice, slice]], optional): multiply
            only these blocks of ``block`` rows (from
            :func:`~mmreid_unsup.ops.knn_ordering.upper_block_pairs`); the
            lists then hold the best candidates among the blocks' columns,
            a row no block reached ``-inf`` and index ``N``. Defaults to
            None (every block of the upper triangle).

    Returns:
        tuple[Tensor, Tensor]: ``(N, C)`` float32 bfloat16 similarities,
        largest first, and int64 indices, in no particular order of ties.
    """
    num = low.size(0)
    best_sims = torch.full((num, num_candidates), -float('inf'),
                           device=low.device)
    best_idx = torch.full((num, num_candidates), num, dtype=torch.long,
                          device=low.device)
    if block_pairs is None:
        block_pairs = upper_block_pairs(num, min(block, num))
    for rows, sims, first_col in symmetric_block_products(low, block_pairs):
        top_sims, top_idx = sims.topk(min(num_candidates, sims.size(1)), dim=1)
        merged = torch.cat([best_sims[rows], top_sims.float()], dim=1)
        indices = torch.cat([best_idx[rows], top_idx + first_col], dim=1)
        kept, pos = merged.topk(num_candidates, dim=1)
        best_sims[rows], best_idx[rows] = kept, indices.gather(1, pos)
    return best_sims, best_idx


def _exact_top_k(features: torch.Tensor, query_rows: torch.Tensor,
                 cols: torch.Tensor, counts: torch.Tensor,
                 k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top ``k`` by exact similarity among each query's listed columns.

    Args:
        features (Tensor): ``(N, D)`` float32 features.
        query_rows (Tensor): ``(Q,)`` the query rows.
        cols (Tensor): the listed columns, query after query.
        counts (Tensor): ``(Q,)`` columns listed per query (at least ``k``).
        k (int): neighbours kept.

    Returns:
        tuple[Tensor, Tensor]: ``(Q, k)`` exact similarities and indices,
        ties cut by index.
    """
    num_queries, num = query_rows.numel(), features.size(0)
    owner = torch.repeat_interleave(torch.arange(num_queries,
                                                 device=cols.device), counts)
    sims = pair_inner_products(features, query_rows[owner], cols)
    width = int(counts.max())
    padded_sims = sims.new_full((num_queries, width), -float('inf'))
    padded_idx = torch.full((num_queries, width), num, dtype=torch.long,
                            device=cols.device)
    first = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    pos = torch.arange(cols.numel(), device=cols.device) - first
    padded_sims[owner, pos], padded_idx[owner, pos] = sims, cols
    return lexicographic_topk(padded_sims, padded_idx, k)


def _exhaustive_rows(features: torch.Tensor, low: torch.Tensor,
                     rows: torch.Tensor, kth_sims: torch.Tensor,
                     bounds: torch.Tensor,
                     k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top ``k`` of ``rows`` from every sample that could belong.

    A sample belongs to the re-scored set when its bfloat16 similarity
    reaches ``kth_sims - bound``: the true ``k``-th similarity is at least
    ``kth_sims``, so the set holds every true neighbour.
    """
    num = features.size(0)
    chunk = max(1, MAX_CHUNK_ELEMENTS // num)
    out_sims, out_idx = [], []
    for start in range(0, rows.numel(), chunk):
        part = rows[start:start + chunk]
        approx = (low[part] @ low.t()).float()
        floor = kth_sims[start:start + chunk] - bounds[start:start + chunk]
        floor = floor - _output_rounding(floor)
        query, cols = (approx >= floor[:, None]).nonzero(as_tuple=True)
        counts = torch.bincount(query, minlength=part.numel())
        sims, idx = _exact_top_k(features, part, cols, counts, k)
        out_sims.append(sims)
        out_idx.append(idx)
    return torch.cat(out_sims), torch.cat(out_idx)


def fast_bfloat16_matmul(device: torch.device) -> bool:
    """Whether bfloat16 matrix products are native (fast) on ``device``.

    On CPU that needs oneDNN with bfloat16 instructions (AVX512-BF16 or
    AMX); without them the products are emulated and slower than float32.
    GPUs return False: there ``backend='auto'`` prefers faiss or the float32
    torch search.

    Args:
        device (torch.device): where the features are.

    Returns:
        bool: True when ``backend='auto'`` should use the certified bfloat16
        search (:func:`bf16_knn`).
    """
    if torch.device(device).type != 'cpu':
        return False
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # private API of oneDNN builds
        return False


@KNN_BACKENDS.register_module(name='torch_bf16')
def bf16_knn(features: torch.Tensor,
             k: int,
             margin: int = BF16_MARGIN,
             chunk_size: int = BF16_BLOCK
             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN searched in bfloat16 and certified in float32.

    See the module docstring for the method and the error bound. Runs on the
    features' device.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k (int): number of neighbours, the query included.
        margin (int): candidates kept beyond ``k`` in the bfloat16 pass.
            More candidates certify more rows at the cost of more float32
            re-scoring. Defaults to 32.
        chunk_size (int): rows per block of the bfloat16 pass. Defaults to
            8192 (128 MB blocks, two of them in memory).

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.
    """
    check_knn_inputs(features, k)
    if margin < 0 or chunk_size < 1:
        raise ValueError('margin must be >= 0 and chunk_size >= 1, got '
                         f'margin={margin}, chunk_size={chunk_size}')
    feats = features.detach().float().contiguous()
    num = feats.size(0)
    num_candidates = min(k + margin, num)
    low = feats.bfloat16()
    bounds = bf16_rounding_bound(feats, low)

    cand_sims, cand_idx = bf16_candidates(low, num_candidates, chunk_size)
    top_sims, top_idx = certified_rows(feats, low, bounds, cand_sims,
                                       cand_idx, k)
    return sort_and_put_self_first(
        top_sims, top_idx, torch.arange(num, device=feats.device))


def certified_rows(feats: torch.Tensor,
                   low: torch.Tensor,
                   bounds: torch.Tensor,
                   cand_sims: torch.Tensor,
                   cand_idx: torch.Tensor,
                   k: int,
                   first: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top ``k`` of a block of rows from their bfloat16 candidates.

    Steps 2-4 of the module docstring: the candidates re-scored in float32,
    the certificate, and the exhaustive search of the rows without it.

    Args:
        feats (Tensor): ``(N, D)`` float32 L2-normalised features.
        low (Tensor): ``(N, D)`` their bfloat16 rounding.
        bounds (Tensor): ``(N,)`` :func:`bf16_rounding_bound` of every row.
        cand_sims (Tensor): ``(R, C)`` bfloat16 similarities of the block's
            candidates, largest first (:func:`bf16_candidates`).
        cand_idx (Tensor): ``(R, C)`` their indices.
        k (int): neighbours kept, ``k <= C``.
        first (int): the block's first row: the block is rows
            ``first .. first + R - 1``. Defaults to 0.

    Returns:
        tuple[Tensor, Tensor]: ``(R, k)`` exact similarities and indices,
        ties cut by index, in no particular order.
    """
    num = feats.size(0)
    num_rows, num_candidates = cand_idx.shape
    if num_rows == 0:
        return (feats.new_empty((0, k)),
                torch.empty((0, k), dtype=torch.long, device=feats.device))
    rows = torch.arange(first, first + num_rows, device=feats.device)
    counts = torch.full((num_rows, ), num_candidates, device=feats.device)
    top_sims, top_idx = _exact_top_k(feats, rows, cand_idx.flatten(), counts,
                                     k)

    if num_candidates < num:
        bounds = bounds[first:first + num_rows]
        # Largest exact similarity a sample left out of row i can have.
        last = cand_sims[:, -1]
        ceiling = last + bounds + _output_rounding(last)
        uncertified = (top_sims[:, -1] <= ceiling).nonzero().flatten()
        if uncertified.numel() > 0:
            top_sims[uncertified], top_idx[uncertified] = _exhaustive_rows(
                feats, low, uncertified + first, top_sims[uncertified, -1],
                bounds[uncertified], k)
    return top_sims, top_idx
