"""Pictures: ranked lists of queries and their gallery matches."""
from .ranked_list import (STATUS_COLORS, RankedListLayout, draw_ranked_list,
                          gallery_statuses, read_rgb)
from .ranked_list_hook import RankedListVisualizationHook

__all__ = [
    'STATUS_COLORS', 'RankedListLayout', 'draw_ranked_list',
    'gallery_statuses', 'read_rgb', 'RankedListVisualizationHook'
]
