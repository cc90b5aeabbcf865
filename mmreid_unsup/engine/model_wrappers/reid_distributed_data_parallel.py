"""DDP wrapper that also runs on CPU (gloo)."""
import torch
from mmengine.model import MMDistributedDataParallel

from mmreid_unsup.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class ReIDDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops CUDA device ids on CPU.

    MMEngine's runner always passes ``device_ids=[LOCAL_RANK]``, which
    ``DistributedDataParallel`` rejects for a CPU module. Without CUDA the ids
    are dropped, so the same config trains with nccl on GPUs and with gloo on
    CPU. Use it with ``broadcast_buffers=False``: the memories are updated
    from all-gathered features and stay identical on every rank by
    construction, so broadcasting them every iteration is wasted traffic.

    Args:
        module (nn.Module): The model to wrap.
        detect_anomalous_params (bool): See ``MMDistributedDataParallel``.
        **kwargs: Passed to ``DistributedDataParallel``.
    """

    def __init__(self,
                 module: torch.nn.Module,
                 detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        if not torch.cuda.is_available():
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(
            module=module,
            detect_anomalous_params=detect_anomalous_params,
            **kwargs)
