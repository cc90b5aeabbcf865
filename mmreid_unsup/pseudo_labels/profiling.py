"""Per-stage wall time, peak memory and progress display for the labelers.

A pseudo-label refresh has a few expensive stages (kNN search, k-reciprocal
encoding, Jaccard distance, clustering). :class:`StageProfiler` times each
one, records the peak resident memory of the process *during* that stage and,
when asked, shows a progress bar that the chunked stages advance.

Peak memory on Linux comes from ``VmHWM`` in ``/proc/self/status``, which is
reset at the start of each stage through ``/proc/self/clear_refs`` (Linux >=
4.0), so each stage reports its own high-water mark. Where that reset is not
possible (other systems, restricted containers) the process-lifetime peak
(``getrusage``) is reported instead, an upper bound, and
:attr:`StageProfiler.per_stage_peak` is ``False``. When the stage's tensors
live on a CUDA device, the peak allocated device memory is recorded too.
"""
import resource
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Union

import torch

from mmreid_unsup.utils.progress import ProgressCallback, progress_bar

__all__ = ['StageProfiler', 'current_rss_mb', 'peak_rss_mb',
           'reset_peak_rss']

_MIB = float(1 << 20)


def _read_status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def current_rss_mb() -> Optional[float]:
    """Resident set size of this process in MiB (``None`` if unknown)."""
    kb = _read_status_kb('VmRSS')
    return None if kb is None else kb / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process.

    Returns:
        bool: Whether the reset worked (Linux with a writable
        ``/proc/self/clear_refs``).
    """
    try:
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set size in MiB since the last :func:`reset_peak_rss`.

    Falls back to the process-lifetime peak where ``VmHWM`` is unavailable.
    """
    kb = _read_status_kb('VmHWM')
    if kb is not None:
        return kb / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return maxrss / _MIB if sys.platform == 'darwin' else maxrss / 1024


class StageProfiler:
    """Collect ``time_<stage>`` and ``peak_mem_<stage>`` for named stages.

    Args:
        progress (bool): Show a progress bar per stage. Defaults to False.
        device (torch.device | str, optional): Device whose CUDA memory peak
            is recorded as ``peak_gpu_mem_<stage>`` when it is a CUDA device.
            Defaults to None (host memory only).

    Attributes:
        stats (dict): ``time_<stage>`` in seconds, ``peak_mem_<stage>`` (peak
            RSS of the process during the stage, MiB) and, on CUDA,
            ``peak_gpu_mem_<stage>`` (MiB), for every stage run so far.
        per_stage_peak (bool): Whether the peaks are per stage (``True``) or
            process-lifetime upper bounds (``False``).

    Example:
        >>> profiler = StageProfiler(progress=True)
        >>> with profiler.stage('jaccard') as progress:
        ...     for done in range(10):
        ...         progress(done + 1, 10)
        >>> profiler.stats['time_jaccard'], profiler.stats['peak_mem_jaccard']
    """

    def __init__(self,
                 progress: bool = False,
                 device: Union[torch.device, str, None] = None) -> None:
        self.progress = progress
        self.device = torch.device(device) if device is not None else None
        self.stats: Dict[str, float] = {}
        self.per_stage_peak = True

    @contextmanager
    def stage(self, name: str) -> Iterator[ProgressCallback]:
        """Profile the code run inside the ``with`` block as stage ``name``.

        Args:
            name (str): The stage's name, used in the stats keys and as the
                progress bar's label.

        Yields:
            ProgressCallback: ``progress(num_done, num_total)`` for the stage
            to report its advance; calling it is optional.
        """
        self.per_stage_peak &= reset_peak_rss()
        on_cuda = self.device is not None and self.device.type == 'cuda'
        if on_cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        start = time.perf_counter()
        try:
            with progress_bar(name, enabled=self.progress) as report:
                yield report
        finally:
            self.stats[f'time_{name}'] = time.perf_counter() - start
            self.stats[f'peak_mem_{name}'] = peak_rss_mb()
            if on_cuda:
                self.stats[f'peak_gpu_mem_{name}'] = (
                    torch.cuda.max_memory_allocated(self.device) / _MIB)
