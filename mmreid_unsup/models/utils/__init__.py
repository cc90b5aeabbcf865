from .part_fusion import PartFusion
from .resizable_buffer import ResizableBufferMixin

__all__ = ['PartFusion', 'ResizableBufferMixin']
