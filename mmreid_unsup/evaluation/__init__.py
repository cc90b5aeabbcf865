"""Evaluation: ranking functions and MMEngine metrics."""
from .functional import (evaluate_rank, evaluate_rank_from_features,
                         query_rank_stats)
from .metrics import ReIDMetric

__all__ = [
    'evaluate_rank', 'evaluate_rank_from_features', 'query_rank_stats',
    'ReIDMetric'
]
