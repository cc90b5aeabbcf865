"""Evaluation: ranking functions, metrics and the multi-dataset evaluator."""
from .functional import (evaluate_rank, evaluate_rank_from_features,
                         feature_distance_blocks, query_rank_stats)
from .metrics import ReIDMetric
from .multi_datasets_evaluator import MultiDatasetsEvaluator

__all__ = [
    'evaluate_rank', 'evaluate_rank_from_features', 'feature_distance_blocks',
    'query_rank_stats', 'ReIDMetric', 'MultiDatasetsEvaluator'
]
