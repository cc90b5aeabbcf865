"""All-gathers of data whose length differs from rank to rank.

MMEngine's :func:`~mmengine.dist.all_gather` needs a tensor of the same
shape on every rank; the helpers here first gather each rank's length, pad
to the longest and cut the padding off again. They go through MMEngine's
collectives, which move the data to the backend's device and back (the CPU
for gloo, the current GPU for nccl), so they take tensors or arrays on any
device. Without an initialised process group they return the data as it
is.
"""
import numpy as np
import torch
from mmengine.dist import all_gather, get_world_size

__all__ = ['all_gather_rows', 'all_gather_array']


def all_gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's rows, concatenated in rank order.

    Every rank of the default process group must call this.

    Args:
        tensor (Tensor): ``(n_r, ...)`` this rank's rows; ``n_r`` may differ
            between ranks (0 included), the other dimensions may not.

    Returns:
        Tensor: ``(sum_r n_r, ...)`` on the input's device, the same on
        every rank.
    """
    if get_world_size() == 1:
        return tensor
    count = torch.tensor([tensor.shape[0]], device=tensor.device)
    counts = [int(c) for c in all_gather(count)]
    if max(counts) == 0:
        return tensor
    padded = tensor.new_zeros((max(counts), ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    gathered = all_gather(padded)
    return torch.cat([part[:n] for part, n in zip(gathered, counts)])


def all_gather_array(array: np.ndarray) -> np.ndarray:
    """Every rank's numpy array, concatenated along axis 0 in rank order.

    Every rank of the default process group must call this.

    Args:
        array (np.ndarray): this rank's array, of a dtype torch has
            (integers, floats, bool); its length may differ between ranks.

    Returns:
        np.ndarray: the concatenation, the same on every rank, of the
        input's dtype.
    """
    if get_world_size() == 1:
        return array
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return all_gather_rows(tensor).numpy()
