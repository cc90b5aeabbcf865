from .cluster_contrast_head import ClusterContrastHead
from .scl_head import SCLHead

__all__ = ['ClusterContrastHead', 'SCLHead']
