from .atomic_io import (AtomicLocalBackend, atomic_file, atomic_write,
                        atomic_write_bytes)
from .exit_gc import freeze_gc_at_exit
from .random_state import (get_random_states, seeded_random_state,
                           set_random_states)
from .safe_checkpoint import (UnsafeCheckpointError, checkpoint_safe_globals,
                              load_local_checkpoint, load_remote_checkpoint,
                              safe_torch_load)
from .setup_env import register_all_modules

__all__ = [
    'AtomicLocalBackend', 'atomic_file', 'atomic_write', 'atomic_write_bytes',
    'checkpoint_safe_globals', 'load_local_checkpoint',
    'load_remote_checkpoint', 'safe_torch_load', 'UnsafeCheckpointError',
    'get_random_states', 'set_random_states', 'seeded_random_state',
    'register_all_modules', 'freeze_gc_at_exit'
]
