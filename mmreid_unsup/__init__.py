"""mmreid_unsup: unsupervised person re-identification on MMEngine."""
from .model_zoo.checkpoint_loader import register_zoo_scheme
from .utils import (register_atomic_local_backend,
                    register_checkpoint_safe_globals,
                    register_safe_checkpoint_loader)
from .version import __version__

# torch >= 2.6 loads checkpoints with ``weights_only=True``; allow exactly the
# objects MMEngine writes into them, so resume and ``load_from`` work without
# turning the safety off.
register_checkpoint_safe_globals()
# ``zoo://NAME`` works wherever MMEngine takes a checkpoint path (load_from,
# init_cfg=dict(type='Pretrained', ...)): resolved through the model zoo
# index, downloaded once, sha256-verified, read with weights_only=True.
# Registered before the safe loader below, which wraps the remote schemes.
register_zoo_scheme()
# Every checkpoint MMEngine loads (load_checkpoint, load_from, resume,
# Pretrained init) is read with weights_only=True explicitly; a file that
# could run code on unpickling is refused with a message naming it.
register_safe_checkpoint_loader()
# Checkpoints on local disk are written to a temporary file and renamed, so
# a crash during a save leaves the previous checkpoint loadable.
register_atomic_local_backend()

__all__ = ['__version__']
