"""Zero the denormal (subnormal) entries of a model's weights.

A float below ``torch.finfo(dtype).tiny`` in magnitude (about 1.2e-38 in
float32) is stored denormal, and x86 CPUs compute with denormal operands
many times slower than with normal ones unless the thread runs with
flush-to-zero / denormals-are-zero, which PyTorch leaves off. Pretrained
re-ID models carry them: long training with weight decay shrinks the
weights of channels that stopped contributing until they underflow. The
MSMT17 OSNet-x0.25 of torchreid holds 741 (whole output channels of its
first 1x1 convolutions), and every model fine-tuned from it keeps them.
Their outputs are then denormal as well, and the convolutions that read
them slow the whole forward pass down: zeroing them made the extraction
pass of that model 1.69x faster in NCHW and 1.53x with channels-last
batches (``benchmarks/feature_extraction.py``).

Zeroing changes each such weight by less than 1.2e-38, far below float32
rounding of any normal output, so the features stay equal to rounding.
Only tensors on the CPU in float32, float64 or bfloat16 are flushed: the
slow path is the CPU's, and a float16 weight is computed on in float32,
where its subnormal values are normal numbers (zeroing them would lose
precision for no speed).
``torch.set_flush_denormal`` would reach the same for the activations too,
but it sets the calling thread only (not the intra-op worker threads
already started) and changes the process for every other library; the
weights are where these models' denormals come from.
"""
from contextlib import contextmanager
from typing import Iterator, List, Tuple

import torch
from torch import nn

#: The dtypes whose subnormal values the CPU computes on slowly.
FLUSHED_DTYPES = (torch.float32, torch.float64, torch.bfloat16)


def _float_tensors(module: nn.Module) -> Iterator[torch.Tensor]:
    """Every CPU parameter and buffer of ``module`` of a flushed dtype,
    each once (tied weights are one tensor)."""
    seen = set()
    for tensor in list(module.parameters()) + list(module.buffers()):
        if (tensor.dtype in FLUSHED_DTYPES and tensor.device.type == 'cpu'
                and id(tensor) not in seen):
            seen.add(id(tensor))
            yield tensor


def _denormal_mask(tensor: torch.Tensor) -> torch.Tensor:
    tiny = torch.finfo(tensor.dtype).tiny
    return (tensor.abs() < tiny) & (tensor != 0)


@torch.no_grad()
def flush_denormals_(module: nn.Module) -> int:
    """Set every denormal entry of ``module``'s floating parameters and
    buffers (on the CPU, float32, float64 or bfloat16) to zero, in place.

    Args:
        module (nn.Module): The model (unwrapped, or any submodule).

    Returns:
        int: How many entries were denormal (and are now zero).
    """
    count = 0
    for tensor in _float_tensors(module):
        mask = _denormal_mask(tensor)
        num = int(mask.sum())
        if num:
            tensor.masked_fill_(mask, 0.0)
            count += num
    return count


@contextmanager
def denormals_flushed(module: nn.Module) -> Iterator[int]:
    """Zero ``module``'s denormal weights for the duration of a ``with``
    block, then put back the exact values.

    For a pass that must leave the weights as it found them, bit for bit
    (the feature extraction of a pseudo-label refresh within a training
    run whose weights the optimizer owns).

    Args:
        module (nn.Module): The model (unwrapped, or any submodule).

    Yields:
        int: How many entries were zeroed.
    """
    saved: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    try:
        with torch.no_grad():
            for tensor in _float_tensors(module):
                mask = _denormal_mask(tensor)
                if bool(mask.any()):
                    saved.append((tensor, mask, tensor[mask].clone()))
                    tensor.masked_fill_(mask, 0.0)
        yield sum(int(mask.sum()) for _, mask, _ in saved)
    finally:
        with torch.no_grad():
            for tensor, mask, values in saved:
                tensor[mask] = values
