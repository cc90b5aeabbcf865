from .base_memory import BaseMemory, gather_rows
from .cluster_memory import ClusterMemory

__all__ = ['BaseMemory', 'ClusterMemory', 'gather_rows']
