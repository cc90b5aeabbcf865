"""Metrics registered in ``METRICS``."""
from .reid_metric import ReIDMetric

__all__ = ['ReIDMetric']
