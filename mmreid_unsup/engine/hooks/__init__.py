from .cluster_refresh_hook import ClusterRefreshHook
from .instance_memory_hook import InstanceMemoryHook
from .memory_momentum_hook import MemoryMomentumHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook

__all__ = [
    'ClusterRefreshHook', 'InstanceMemoryHook', 'MemoryMomentumHook',
    'NonFiniteLossError', 'NonFiniteLossHook'
]
