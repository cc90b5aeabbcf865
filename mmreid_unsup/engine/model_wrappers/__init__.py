from .reid_distributed_data_parallel import ReIDDistributedDataParallel

__all__ = ['ReIDDistributedDataParallel']
