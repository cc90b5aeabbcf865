"""mmreid_unsup: unsupervised person re-identification on MMEngine.

Importing the package checks the MMEngine version and changes nothing of
torch's or MMEngine's global state (``tests/test_import_side_effects.py``).
What MMEngine needs to know of the package is declared where it is used:
the registries (children of MMEngine's roots, found through
``default_scope = 'mmreid_unsup'``), the runner the base config selects
(``runner_type``: :class:`~mmreid_unsup.engine.ReIDRunner`, which reads
every checkpoint with ``weights_only=True`` and writes them atomically),
and :func:`~mmreid_unsup.utils.register_all_modules`, which the tools call.
"""
import mmengine
from mmengine.utils import digit_version

from .version import __version__

#: The MMEngine versions this package works with, ``[minimum, maximum)``,
#: as ``requirements/runtime.txt`` states them.
MMENGINE_MINIMUM_VERSION = '0.10.4'
MMENGINE_MAXIMUM_VERSION = '0.11'


def _check_mmengine_version() -> None:
    """Refuse an MMEngine outside the supported range, clearly."""
    version = digit_version(mmengine.__version__)
    if not (digit_version(MMENGINE_MINIMUM_VERSION) <= version <
            digit_version(MMENGINE_MAXIMUM_VERSION)):
        raise ImportError(
            f'mmreid_unsup {__version__} needs mmengine>='
            f'{MMENGINE_MINIMUM_VERSION},<{MMENGINE_MAXIMUM_VERSION}, but '
            f'mmengine {mmengine.__version__} is installed: pip install '
            f'"mmengine>={MMENGINE_MINIMUM_VERSION},'
            f'<{MMENGINE_MAXIMUM_VERSION}"')


_check_mmengine_version()

__all__ = [
    '__version__', 'MMENGINE_MINIMUM_VERSION', 'MMENGINE_MAXIMUM_VERSION'
]
