"""mmreid_unsup: unsupervised person re-identification on MMEngine."""
from .utils.safe_checkpoint import register_checkpoint_safe_globals
from .version import __version__

# torch >= 2.6 loads checkpoints with ``weights_only=True``; allow exactly the
# objects MMEngine writes into them, so resume and ``load_from`` work without
# turning the safety off.
register_checkpoint_safe_globals()

__all__ = ['__version__']
