"""Metric functions usable without MMEngine (tools, benchmarks)."""
from .ranking import (evaluate_rank, evaluate_rank_from_features,
                      feature_distance_blocks, query_rank_stats)

__all__ = [
    'evaluate_rank', 'evaluate_rank_from_features', 'feature_distance_blocks',
    'query_rank_stats'
]
