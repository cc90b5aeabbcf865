"""mmreid_unsup: unsupervised person re-identification on MMEngine."""
from .model_zoo.checkpoint_loader import register_zoo_scheme
from .utils import (register_atomic_local_backend,
                    register_checkpoint_safe_globals,
                    register_safe_checkpoint_loader)
from .version import __version__

# Plain ``torch.load(weights_only=True)`` of a checkpoint MMEngine wrote reads
# its HistoryBuffers and numpy arrays into inert, validated records (our own
# loads allow-list these stand-ins themselves, see utils/safe_checkpoint.py).
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
