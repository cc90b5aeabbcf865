from .info_nce_loss import InfoNCELoss
from .multi_positive_memory_loss import MultiPositiveMemoryLoss

__all__ = ['InfoNCELoss', 'MultiPositiveMemoryLoss']
