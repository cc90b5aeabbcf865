"""The model zoo: an index of released checkpoints, verified downloads and
the ``zoo://NAME`` checkpoint scheme (see ``model_zoo/README.md``)."""
from .checkpoint_loader import ZOO_PREFIX, load_from_zoo, register_zoo_scheme
from .download import (DEFAULT_CACHE_DIR, ENV_CACHE_DIR, ENV_MIRROR,
                       ENV_OFFLINE, cache_dir, cached_checkpoint, fetch,
                       get_checkpoint, is_offline, mirror_url,
                       repository_checkpoint, sha256_file)
from .errors import (ChecksumError, DownloadError, IndexFormatError,
                     ModelZooError, OfflineError, UnknownModelError)
from .index import (DEFAULT_INDEX, ENV_INDEX, ModelIndex, ZooModel, ZooResult,
                    index_path, load_index)

__all__ = [
    'ZOO_PREFIX', 'load_from_zoo', 'register_zoo_scheme', 'DEFAULT_CACHE_DIR',
    'ENV_CACHE_DIR', 'ENV_MIRROR', 'ENV_OFFLINE', 'cache_dir',
    'cached_checkpoint', 'fetch', 'get_checkpoint', 'is_offline',
    'mirror_url', 'repository_checkpoint', 'sha256_file', 'ChecksumError',
    'DownloadError',
    'IndexFormatError', 'ModelZooError', 'OfflineError', 'UnknownModelError',
    'DEFAULT_INDEX', 'ENV_INDEX', 'ModelIndex', 'ZooModel', 'ZooResult',
    'index_path', 'load_index'
]
