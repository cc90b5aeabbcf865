from .agent_memory import AgentMemory
from .base_memory import BaseMemory, gather_rows
from .cluster_memory import ClusterMemory
from .instance_memory import InstanceMemory
from .proxy_memory import ProxyMemory

__all__ = [
    'BaseMemory', 'ClusterMemory', 'InstanceMemory', 'gather_rows',
    'ProxyMemory', 'AgentMemory'
]
