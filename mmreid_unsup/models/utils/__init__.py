from .denormals import denormals_flushed, flush_denormals_
from .part_fusion import PartFusion
from .resizable_buffer import ResizableBufferMixin

__all__ = [
    'PartFusion', 'ResizableBufferMixin', 'denormals_flushed',
    'flush_denormals_'
]
