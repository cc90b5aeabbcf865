"""Cluster-Contrast, the baseline every method here builds on."""
from typing import Optional, Union

import torch.nn as nn

from mmreid_unsup.registry import MODELS
from .base_reid_model import BaseReIDModel


@MODELS.register_module()
class ClusterContrast(BaseReIDModel):
    """Cluster-Contrast (Dai et al., 2021).

    A ResNet with GeM + BNNeck gives L2-normalised embeddings; a
    ``ClusterContrastHead`` compares them with a memory of cluster
    centroids by InfoNCE. Clustering (DBSCAN on the k-reciprocal Jaccard
    distance) runs in ``ClusterRefreshHook``, the centroid momentum update in
    ``MemoryMomentumHook``; the model itself is :class:`BaseReIDModel`.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Neck config.
        head (dict, optional): Defaults to a ``ClusterContrastHead`` with a
            2048-d ``ClusterMemory`` (momentum 0.1) and ``InfoNCELoss``
            (temperature 0.05).
        data_preprocessor (dict or nn.Module, optional): Defaults to
            ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: Optional[dict] = dict(
                     type='ClusterContrastHead',
                     memory=dict(
                         type='ClusterMemory', feat_dim=2048, momentum=0.1),
                     loss=dict(type='InfoNCELoss', temperature=0.05)),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
