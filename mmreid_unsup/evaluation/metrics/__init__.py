"""Metrics registered in ``METRICS``."""
from .reid_metric import ReIDMetric
from .scl_reid_metric import SCLReIDMetric

__all__ = ['ReIDMetric', 'SCLReIDMetric']
