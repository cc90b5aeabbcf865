"""Nearest gallery images of query features."""
from typing import Tuple

import torch
import torch.nn.functional as F

from mmreid_unsup.ops import is_faiss_available

__all__ = ['search_gallery']

#: Similarities the torch backend materialises at once (about 64 MB).
_MAX_BLOCK = 1 << 24


def _faiss_search(queries: torch.Tensor, gallery: torch.Tensor,
                  topk: int) -> Tuple[torch.Tensor, torch.Tensor]:
    import faiss
    index = faiss.IndexFlatIP(gallery.size(1))
    index.add(gallery.cpu().numpy())
    sims, indices = index.search(queries.cpu().numpy(), topk)
    return torch.from_numpy(sims), torch.from_numpy(indices).long()


def _torch_search(queries: torch.Tensor, gallery: torch.Tensor,
                  topk: int) -> Tuple[torch.Tensor, torch.Tensor]:
    rows = max(1, _MAX_BLOCK // max(gallery.size(0), 1))
    sims, indices = [], []
    for start in range(0, queries.size(0), rows):
        block = queries[start:start + rows] @ gallery.t()
        top = block.topk(topk, dim=1)
        sims.append(top.values)
        indices.append(top.indices)
    return torch.cat(sims).cpu(), torch.cat(indices).cpu()


def search_gallery(query_feats: torch.Tensor,
                   gallery_feats: torch.Tensor,
                   topk: int = 10,
                   backend: str = 'auto') -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``topk`` gallery images closest to each query.

    Features are L2-normalised; closeness is the squared Euclidean distance
    ``2 - 2 cos`` (the evaluation's). The search is exact with either
    backend.

    Args:
        query_feats (Tensor): ``(Q, D)`` or ``(D,)`` query features.
        gallery_feats (Tensor): ``(G, D)`` gallery features.
        topk (int): results per query, at most ``G``. Defaults to 10.
        backend (str): ``'faiss'`` (``IndexFlatIP``), ``'torch'`` (blocked
            matrix product on the features' device) or ``'auto'`` (faiss
            when installed). Defaults to ``'auto'``.

    Returns:
        tuple[Tensor, Tensor]: ``(Q, topk)`` distances (float32, ascending)
        and gallery indices (int64), on the CPU.

    Raises:
        ValueError: on bad shapes, ``topk`` or backend.
        ImportError: if ``backend='faiss'`` and faiss is not installed.
    """
    queries = torch.as_tensor(query_feats).detach().float()
    if queries.dim() == 1:
        queries = queries[None]
    gallery = torch.as_tensor(gallery_feats).detach().float()
    if queries.dim() != 2 or gallery.dim() != 2 or (queries.size(1) !=
                                                    gallery.size(1)):
        raise ValueError('features must be (Q, D) and (G, D), got '
                         f'{tuple(queries.shape)} and {tuple(gallery.shape)}')
    if not 1 <= topk <= gallery.size(0):
        raise ValueError(f'topk must lie in [1, {gallery.size(0)}] (the '
                         f'gallery size), got {topk}')
    if backend not in ('auto', 'faiss', 'torch'):
        raise ValueError(
            f"backend must be 'auto', 'faiss' or 'torch', got {backend!r}")
    if backend == 'faiss' and not is_faiss_available():
        raise ImportError("backend='faiss' but faiss is not installed "
                          '(pip install faiss-cpu)')
    queries = F.normalize(queries, dim=1)
    gallery = F.normalize(gallery, dim=1)
    use_faiss = backend == 'faiss' or (backend == 'auto'
                                       and is_faiss_available()
                                       and gallery.device.type == 'cpu')
    search = _faiss_search if use_faiss else _torch_search
    sims, indices = search(queries, gallery, topk)
    return (2 - 2 * sims).clamp_(min=0), indices
