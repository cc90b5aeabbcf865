from .cluster_refresh_hook import ClusterRefreshHook
from .instance_memory_hook import InstanceMemoryHook
from .memory_momentum_hook import MemoryMomentumHook

__all__ = ['ClusterRefreshHook', 'InstanceMemoryHook', 'MemoryMomentumHook']
