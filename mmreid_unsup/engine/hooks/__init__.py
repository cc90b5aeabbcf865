from .atomic_checkpoint_hook import AtomicCheckpointHook
from .cluster_refresh_hook import ClusterRefreshHook
from .instance_memory_hook import InstanceMemoryHook
from .memory_momentum_hook import MemoryMomentumHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .random_state_hook import RandomStateHook
from .sync_norm_stats_hook import SyncNormStatsHook

__all__ = [
    'AtomicCheckpointHook', 'ClusterRefreshHook', 'InstanceMemoryHook',
    'MemoryMomentumHook', 'NonFiniteLossError', 'NonFiniteLossHook',
    'RandomStateHook', 'SyncNormStatsHook'
]
