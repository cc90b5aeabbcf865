"""Row operations on feature matrices: unit rows and inner products of pairs.

Every neighbour operation of :mod:`mmreid_unsup.ops` compares the rows of an
``(N, D)`` feature matrix by their inner product, which is their cosine
similarity once the rows have unit L2 norm.
"""
import torch
import torch.nn.functional as F

__all__ = ['l2_normalize', 'pair_inner_products']

#: Feature pairs whose inner product is computed at once.
_PAIR_CHUNK = 1024
#: Upper bound on the gathered feature entries of one such chunk.
_MAX_PAIR_ELEMENTS = 1 << 24


def l2_normalize(features: torch.Tensor, atol: float = 1e-6) -> torch.Tensor:
    """Rows scaled to unit L2 norm, without a copy when they already are.

    The extracted features are normalised by the model already; at 100,000 x
    2048 a defensive copy costs 800 MB, so it is made only when needed.

    Args:
        features (Tensor): ``(N, D)`` features.
        atol (float): rows whose norm is within ``atol`` of 1 count as
            normalised. Defaults to 1e-6 (float32 rounding).

    Returns:
        Tensor: ``(N, D)`` float32 features with unit rows (``features``
        itself, detached, when it is float32 and already normalised).
    """
    features = features.detach().float()
    norms = torch.linalg.vector_norm(features, dim=1)
    if features.numel() and bool(((norms - 1).abs() <= atol).all()):
        return features
    return F.normalize(features, dim=1)


def pair_inner_products(features: torch.Tensor, rows: torch.Tensor,
                        cols: torch.Tensor) -> torch.Tensor:
    """``features[rows[p]] . features[cols[p]]`` for every pair ``p``.

    Gathers small blocks into reused buffers: fresh multi-megabyte gathers
    spend most of their time faulting in new pages.

    Args:
        features (Tensor): ``(N, D)`` features.
        rows (Tensor): ``(P,)`` integer row indices, any device.
        cols (Tensor): ``(P,)`` integer column indices, any device.

    Returns:
        Tensor: ``(P,)`` inner products in the features' dtype, on their
        device.
    """
    device = features.device
    rows, cols = rows.to(device), cols.to(device)
    num_pairs = rows.numel()
    out = features.new_empty(num_pairs)
    chunk = max(1, min(_PAIR_CHUNK,
                       _MAX_PAIR_ELEMENTS // max(features.size(1), 1)))
    left = features.new_empty((min(chunk, num_pairs), features.size(1)))
    right = torch.empty_like(left)
    for start in range(0, num_pairs, chunk):
        stop = min(start + chunk, num_pairs)
        size = stop - start
        torch.index_select(features, 0, rows[start:stop], out=left[:size])
        torch.index_select(features, 0, cols[start:stop], out=right[:size])
        out[start:stop] = torch.linalg.vecdot(left[:size], right[:size])
    return out
