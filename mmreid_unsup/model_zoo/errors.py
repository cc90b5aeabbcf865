"""The errors of the model zoo, one class per way a request can fail."""


class ModelZooError(Exception):
    """Base class of every model zoo error."""


class IndexFormatError(ModelZooError, ValueError):
    """A ``model-index.yml`` or ``metafile.yml`` does not follow the schema
    of ``model_zoo/README.md``."""


class UnknownModelError(ModelZooError, LookupError):
    """A name that is not in the index (the message lists close names)."""


class ChecksumError(ModelZooError, ValueError):
    """A downloaded file whose sha256 is not the one of the index."""


class DownloadError(ModelZooError, OSError):
    """The weights could not be fetched (no network, an HTTP error), or a
    file released in the repository is missing from the checkout."""


class OfflineError(ModelZooError, FileNotFoundError):
    """Offline mode (``MMREID_OFFLINE=1``) and the file is not cached."""
