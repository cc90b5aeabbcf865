"""What a benchmark ran on: the CPU (model, vector extensions) and torch."""
import os
import platform
from typing import Dict

#: The vector extensions that change the speed of the kernels measured.
EXTENSIONS = ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16')
#: Environment variables that restrict the kernels below what the CPU has:
#: ATen's vector kernels, oneDNN's and MKL's instruction sets, OpenBLAS's
#: (numpy's, scipy's and faiss's BLAS), faiss's SIMD level, OpenCV's and
#: numpy's dispatched loops (``tools/run_tests.py --kernels`` sets them).
KERNEL_LIMITS = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA',
                 'MKL_ENABLE_INSTRUCTIONS', 'OPENBLAS_CORETYPE',
                 'FAISS_SIMD_LEVEL', 'OPENCV_CPU_DISABLE',
                 'NPY_DISABLE_CPU_FEATURES')


def cpu() -> Dict:
    """The CPU's model name (``lscpu``'s) and its speed-relevant extensions.

    Returns:
        dict: ``model``, ``avx512f`` (bool) and ``extensions`` (those of
        :data:`EXTENSIONS` the CPU has).
    """
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() == 'model name':
                    model = value.strip()
                elif key.strip() == 'flags':
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return dict(
        model=model,
        avx512f='avx512f' in flags,
        extensions=[f for f in EXTENSIONS if f in flags])


def kernel_limits() -> Dict:
    """Those of :data:`KERNEL_LIMITS` that are set, with their values."""
    return {name: os.environ[name] for name in KERNEL_LIMITS
            if name in os.environ}


def machine() -> Dict:
    """The platform, CPU, kernel limits, core count and torch build and
    threads."""
    import torch
    return dict(
        platform=platform.platform(),
        cpu=cpu(),
        kernel_limits=kernel_limits(),
        cpus=os.cpu_count(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        cuda=torch.cuda.is_available())
