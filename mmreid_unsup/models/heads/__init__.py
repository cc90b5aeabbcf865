from .cluster_contrast_head import ClusterContrastHead
from .scl_head import SCLHead
from .gracl_head import GRACLHead

__all__ = ['ClusterContrastHead', 'SCLHead', 'GRACLHead']
