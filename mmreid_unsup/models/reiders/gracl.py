"""GRACL: global relation-aware contrast learning (TCSVT 2022)."""
from typing import Optional, Union

import torch.nn as nn

from mmreid_unsup.registry import MODELS
from .base_reid_model import BaseReIDModel


@MODELS.register_module()
class GRACL(BaseReIDModel):
    """Global relation-aware contrast learning.

    Cluster-Contrast's pipeline (backbone, GeM + BNNeck, DBSCAN pseudo
    labels refreshed by ``ClusterRefreshHook``) with a ``GRACLHead``: two
    proxies per cluster instead of one centroid, an inter-ID relation-aware
    proxy (the member most separated from the other identities) and an
    intra-ID relation-aware proxy (the member least similar to its own
    cluster), each in its ``ProxyMemory`` with its own contrastive loss.
    The proxies are selected when ``set_pseudo_labels`` re-initialises the
    memories at each refresh and follow the training by momentum
    (``MemoryMomentumHook``); the model itself is :class:`BaseReIDModel`.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Neck config.
        head (dict, optional): Defaults to a 2048-d ``GRACLHead`` (see its
            defaults).
        data_preprocessor (dict or nn.Module, optional): Defaults to
            ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: Optional[dict] = dict(type='GRACLHead', feat_dim=2048),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
