from .cluster_contrast_head import ClusterContrastHead
from .scl_head import SCLHead
from .gracl_head import GRACLHead
from .ppssl_head import PPSSLHead

__all__ = ['ClusterContrastHead', 'SCLHead', 'GRACLHead', 'PPSSLHead']
