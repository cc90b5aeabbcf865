from .base_reid_model import BaseReIDModel
from .cluster_contrast import ClusterContrast

__all__ = ['BaseReIDModel', 'ClusterContrast']
