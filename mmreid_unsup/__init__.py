"""mmreid_unsup: unsupervised person re-identification on MMEngine."""
from .utils import (register_atomic_local_backend,
                    register_checkpoint_safe_globals)
from .version import __version__

# torch >= 2.6 loads checkpoints with ``weights_only=True``; allow exactly the
# objects MMEngine writes into them, so resume and ``load_from`` work without
# turning the safety off.
register_checkpoint_safe_globals()
# Checkpoints on local disk are written to a temporary file and renamed, so
# a crash during a save leaves the previous checkpoint loadable.
register_atomic_local_backend()

__all__ = ['__version__']
