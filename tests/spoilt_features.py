"""Feature matrices with non-finite and zero rows, for the tests of the bad
feature row policy (``mmreid_unsup/utils/bad_features.py``)."""
import torch
import torch.nn.functional as F

# One NaN element, one +Inf, two zero rows.
BAD_ROWS = {5: 'nan', 17: 'inf', 26: 'zero', 33: 'zero'}


def blobs(num_blobs: int = 4, size: int = 10, dim: int = 16) -> torch.Tensor:
    """``num_blobs`` tight blobs of ``size`` unit features, blob after blob."""
    gen = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(num_blobs, dim, generator=gen)
    feats = centres.repeat_interleave(size, 0) + 0.1 * torch.randn(
        num_blobs * size, dim, generator=gen)
    return F.normalize(feats, dim=1)


def spoil(feats: torch.Tensor) -> torch.Tensor:
    """A copy with the rows of :data:`BAD_ROWS` made NaN, Inf or zero."""
    feats = feats.clone()
    for row, kind in BAD_ROWS.items():
        if kind == 'zero':
            feats[row] = 0
        else:
            feats[row, 3] = float(kind)
    return feats
