from .cluster_refresh_hook import ClusterRefreshHook
from .memory_momentum_hook import MemoryMomentumHook

__all__ = ['ClusterRefreshHook', 'MemoryMomentumHook']
