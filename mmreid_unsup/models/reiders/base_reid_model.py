"""The top-level re-ID model: backbone, neck, optional head, pseudo labels."""
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample
from ..memories import BaseMemory
from ..utils import ResizableBufferMixin


@MODELS.register_module()
class BaseReIDModel(ResizableBufferMixin, BaseModel):
    """Backbone + neck producing L2-normalised embeddings, and a head that
    turns them into losses against pseudo labels.

    The pseudo labels of the whole training set live in the buffer
    ``pseudo_labels`` (``(N,)``, ``-1`` = outlier). ``ClusterRefreshHook``
    fills it through :meth:`set_pseudo_labels`; in ``'loss'`` mode each
    sample's label is looked up by its ``sample_idx``, so labels reach the
    model even with persistent dataloader workers. Being a buffer, the
    labels are saved in checkpoints and restored on resume (resized by
    :class:`ResizableBufferMixin`).

    Args:
        backbone (dict): Backbone config; returns a ``(B, C, H, W)`` map.
        neck (dict, optional): Neck config; turns the map into ``(B, D)``
            vectors. None only for a subclass that pools the map itself
            (e.g. GSL's patch-only variant).
        head (dict, optional): Head config with a
            ``loss(feats, labels) -> dict`` method. None for a model that
            only extracts features. Defaults to None.
        data_preprocessor (dict or nn.Module, optional): Its config (type
            ``'ReIDDataPreprocessor'`` unless given) or the module.
            Defaults to ``dict(type='ReIDDataPreprocessor')``.
        init_cfg (dict or list[dict], optional): MMEngine init config.
    """

    resizable_buffers = ('pseudo_labels', )

    #: What :meth:`parse_losses` calls with the parsed losses (see
    #: :meth:`set_loss_check`); None: nothing.
    _loss_check: Optional[Callable[[Dict[str, torch.Tensor]], None]] = None

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict],
                 head: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict()
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(
                dict(dict(type='ReIDDataPreprocessor'), **data_preprocessor))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None
        self.pseudo_labels: torch.Tensor
        self.register_buffer('pseudo_labels', torch.zeros(0, dtype=torch.long))

    def set_loss_check(
            self, check: Optional[Callable[[Dict[str, torch.Tensor]],
                                           None]]) -> None:
        """Have :meth:`parse_losses` call ``check(log_vars)`` from now on.

        MMEngine's ``train_step`` parses the losses, then runs backward and
        the optimizer step; a check called here (by
        :class:`~mmreid_unsup.engine.hooks.NonFiniteLossHook`, for the
        run) can stop an iteration before its step. It is a plain
        attribute, not part of the state dict.

        Args:
            check (Callable, optional): Called with the parsed values
                (``name -> tensor``; it may raise). None removes it.
        """
        self._loss_check = check

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """MMEngine's ``parse_losses``, then the check of
        :meth:`set_loss_check` if one is set.

        Args:
            losses (dict): The loss dict of the ``'loss'`` mode.

        Returns:
            tuple[Tensor, dict]: The total loss and the values to log.
        """
        loss, log_vars = super().parse_losses(losses)
        if self._loss_check is not None:
            self._loss_check(log_vars)
        return loss, log_vars

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings.

        Args:
            inputs (Tensor): Normalised images, shape ``(B, 3, H, W)``.

        Returns:
            Tensor: Shape ``(B, D)``, unit rows.
        """
        return F.normalize(self.neck(self.backbone(inputs)), dim=1)

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]] = None,
        mode: str = 'tensor'
    ) -> Union[torch.Tensor, List[ReIDDataSample], Dict[str, torch.Tensor]]:
        """Run the model in one of MMEngine's three modes.

        Args:
            inputs (Tensor): Normalised images, shape ``(B, 3, H, W)``.
            data_samples (list[ReIDDataSample], optional): One per image;
                required in ``'loss'`` mode (for ``sample_idx``).
            mode (str): ``'tensor'``, ``'predict'`` or ``'loss'``.

        Returns:
            ``'tensor'``: features ``(B, D)``; ``'predict'``: the data
            samples (created if None) with ``feat`` set; ``'loss'``: a dict
            of losses.
        """
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'{type(self).__name__}: invalid mode {mode!r}, '
                           "expected 'tensor', 'predict' or 'loss'")

    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]] = None
    ) -> List[ReIDDataSample]:
        """Attach each image's embedding to its data sample as ``feat``."""
        return self.attach_fields(data_samples, feat=self.extract_feat(inputs))

    @staticmethod
    def attach_fields(data_samples: Optional[List[ReIDDataSample]],
                      **fields: Optional[torch.Tensor]
                      ) -> List[ReIDDataSample]:
        """Give row ``i`` of every batched tensor to data sample ``i``.

        Args:
            data_samples (list[ReIDDataSample], optional): One per image;
                created when None.
            **fields (Tensor, optional): ``name=(B, ...)`` tensors; None
                values are skipped (a branch a model does not have).

        Returns:
            list[ReIDDataSample]: The data samples.
        """
        fields = {k: v for k, v in fields.items() if v is not None}
        if data_samples is None:
            num = next(iter(fields.values())).shape[0]
            data_samples = [ReIDDataSample() for _ in range(num)]
        for i, data_sample in enumerate(data_samples):
            for name, value in fields.items():
                setattr(data_sample, name, value[i])
        return data_samples

    def check_loss_inputs(self,
                          data_samples: Optional[List[ReIDDataSample]],
                          has_head: Optional[bool] = None) -> None:
        """Fail clearly when ``'loss'`` mode cannot run.

        Args:
            data_samples (list[ReIDDataSample], optional): The batch's.
            has_head (bool, optional): Whether the model has a loss head
                (models with several heads say so); defaults to ``self.head
                is not None``.

        Raises:
            RuntimeError: Without a head, or without data samples (whose
                ``sample_idx`` index the labels and memories).
        """
        if has_head is None:
            has_head = self.head is not None
        if not has_head:
            raise RuntimeError(
                f'{type(self).__name__} has no head: it cannot compute '
                'losses (head=None builds a feature extractor)')
        if not data_samples:
            raise RuntimeError(f'{type(self).__name__}: mode="loss" needs '
                               'the data samples (their sample_idx)')

    @staticmethod
    def sample_indices(data_samples: List[ReIDDataSample],
                       device: torch.device) -> torch.Tensor:
        """The samples' ``sample_idx`` as a long tensor on ``device``."""
        return torch.as_tensor([int(s.sample_idx) for s in data_samples],
                               dtype=torch.long,
                               device=device)

    def loss(
        self, inputs: torch.Tensor,
        data_samples: Optional[List[ReIDDataSample]]
    ) -> Dict[str, torch.Tensor]:
        """The head's losses against the samples' pseudo labels."""
        self.check_loss_inputs(data_samples)
        labels = self.lookup_pseudo_labels(data_samples)
        return self.head.loss(self.extract_feat(inputs), labels)

    def lookup_pseudo_labels(
            self, data_samples: List[ReIDDataSample]) -> torch.Tensor:
        """The pseudo labels of the samples, by their ``sample_idx``.

        Args:
            data_samples (list[ReIDDataSample]): With ``sample_idx`` in
                their metainfo.

        Returns:
            Tensor: Long tensor ``(B,)`` on the buffer's device.
        """
        num_labels = self.pseudo_labels.numel()
        if num_labels == 0:
            raise RuntimeError(f'{type(self).__name__}: no pseudo labels: is '
                               'ClusterRefreshHook in custom_hooks?')
        indices = self.sample_indices(data_samples, self.pseudo_labels.device)
        if int(indices.min()) < 0 or int(indices.max()) >= num_labels:
            raise IndexError(
                f'{type(self).__name__}: sample_idx out of range for '
                f'{num_labels} pseudo labels (min {int(indices.min())}, '
                f'max {int(indices.max())}): were the labels set for '
                'another dataset?')
        return self.pseudo_labels[indices]

    def set_pseudo_labels(self, labels: torch.Tensor,
                          features: torch.Tensor) -> None:
        """Store new pseudo labels and re-initialise the memories.

        Args:
            labels (Tensor): Shape ``(N,)``, ``0..C-1``, ``-1`` for outliers,
                in dataset order.
            features (Tensor): The features they were computed from,
                shape ``(N, D)``; every memory is initialised from them.
        """
        labels = torch.as_tensor(labels)
        if labels.dim() != 1 or features.shape[0] != labels.shape[0]:
            raise ValueError(
                f'{type(self).__name__}.set_pseudo_labels: expected labels '
                f'(N,) and features (N, D), got {tuple(labels.shape)} and '
                f'{tuple(features.shape)}')
        self.pseudo_labels = labels.to(
            device=self.pseudo_labels.device, dtype=torch.long).clone()
        for memory in self.memories():
            memory.init_from_features(features, labels)

    def memories(self) -> Iterator[BaseMemory]:
        """Every memory of the model (for ``MemoryMomentumHook``)."""
        for module in self.modules():
            if isinstance(module, BaseMemory):
                yield module
