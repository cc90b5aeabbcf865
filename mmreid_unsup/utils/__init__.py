from .atomic_io import (AtomicLocalBackend, atomic_write, atomic_write_bytes,
                        register_atomic_local_backend)
from .random_state import (get_random_states, seeded_random_state,
                           set_random_states)
from .safe_checkpoint import (UnsafeCheckpointError,
                              register_checkpoint_safe_globals,
                              register_safe_checkpoint_loader, safe_torch_load)

__all__ = [
    'AtomicLocalBackend', 'atomic_write', 'atomic_write_bytes',
    'register_atomic_local_backend', 'register_checkpoint_safe_globals',
    'register_safe_checkpoint_loader', 'safe_torch_load',
    'UnsafeCheckpointError', 'get_random_states', 'set_random_states',
    'seeded_random_state'
]
