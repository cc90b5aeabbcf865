"""Build a model of the model zoo by name."""
from typing import Optional, Union

import torch
import torch.nn as nn

from ..model_zoo import get_checkpoint, load_index
from .inference import init_model

__all__ = ['get_model']


def get_model(name: str,
              pretrained: bool = True,
              device: Union[str, torch.device] = 'cpu',
              cfg_options: Optional[dict] = None,
              progress: Optional[bool] = None) -> nn.Module:
    """Build the model zoo entry ``name``, with its weights.

    Args:
        name (str): A name of the index (``tools/model_zoo.py list``);
            ``zoo://NAME`` is accepted too.
        pretrained (bool): Load the released weights (downloaded and
            verified, or taken from the cache). False builds the model from
            its config only, with random weights and nothing fetched.
        device (str | torch.device): Where to put the model.
        cfg_options (dict, optional): Overrides merged into the config.
        progress (bool, optional): Show a download progress bar; None shows
            it only on a terminal.

    Returns:
        nn.Module: The model in eval mode; ``model.cfg`` is its config and
        ``model.zoo_name`` the entry's name.

    Raises:
        UnknownModelError: ``name`` is not in the index (close names are
            suggested).
        FileNotFoundError: The entry's config is not found.
        OfflineError, ChecksumError, DownloadError: See
            :func:`mmreid_unsup.model_zoo.get_checkpoint`.
    """
    index = load_index()
    entry = index.get(name)
    config = entry.config_path(index.path)
    checkpoint = (str(get_checkpoint(entry, progress=progress))
                  if pretrained else None)
    model = init_model(
        str(config),
        checkpoint=checkpoint,
        device=device,
        cfg_options=cfg_options)
    model.zoo_name = entry.name
    return model
