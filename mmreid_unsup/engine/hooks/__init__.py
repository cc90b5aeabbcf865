from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_fit_hook import CheckpointFitHook
from .cluster_refresh_hook import ClusterRefreshHook
from .denormal_flush_hook import DenormalFlushHook
from .epoch_summary_hook import EpochSummaryHook
from .instance_memory_hook import InstanceMemoryHook
from .memory_momentum_hook import MemoryMomentumHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .random_state_hook import RandomStateHook
from .sync_norm_stats_hook import SyncNormStatsHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointFitHook', 'ClusterRefreshHook',
    'DenormalFlushHook', 'EpochSummaryHook', 'InstanceMemoryHook',
    'MemoryMomentumHook', 'NonFiniteLossError', 'NonFiniteLossHook',
    'RandomStateHook', 'SyncNormStatsHook'
]
