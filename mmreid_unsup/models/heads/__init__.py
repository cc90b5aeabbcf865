from .cluster_contrast_head import ClusterContrastHead
from .scl_head import SCLHead
from .gracl_head import GRACLHead
from .ppssl_head import PPSSLHead
from .global_similarity_head import GlobalSimilarityHead
from .patch_head import PatchHead

__all__ = [
    'ClusterContrastHead', 'SCLHead', 'GRACLHead', 'PPSSLHead',
    'GlobalSimilarityHead', 'PatchHead'
]
