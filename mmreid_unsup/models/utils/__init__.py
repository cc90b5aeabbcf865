from .resizable_buffer import ResizableBufferMixin

__all__ = ['ResizableBufferMixin']
