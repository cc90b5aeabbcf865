from .info_nce_loss import InfoNCELoss
from .ipfl_loss import IPFLLoss
from .multi_positive_memory_loss import MultiPositiveMemoryLoss
from .pedal_loss import PedalLoss

__all__ = [
    'InfoNCELoss', 'IPFLLoss', 'MultiPositiveMemoryLoss', 'PedalLoss'
]
