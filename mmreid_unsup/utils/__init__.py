from .atomic_io import (AtomicLocalBackend, atomic_write, atomic_write_bytes,
                        register_atomic_local_backend)
from .safe_checkpoint import register_checkpoint_safe_globals

__all__ = [
    'AtomicLocalBackend', 'atomic_write', 'atomic_write_bytes',
    'register_atomic_local_backend', 'register_checkpoint_safe_globals'
]
