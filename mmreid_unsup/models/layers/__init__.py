from .cross_image_alignment import CrossImageAlignment
from .non_local_block import NonLocalBlock

__all__ = ['CrossImageAlignment', 'NonLocalBlock']
