"""Buffers whose shape follows the checkpoint they are loaded from."""
from typing import ClassVar, Dict, List, Tuple

import torch
import torch.nn as nn


class ResizableBufferMixin:
    """Let ``load_state_dict`` resize data-dependent buffers.

    Some buffers have a size that depends on the data, not on the
    architecture: a memory bank ``(num_clusters, D)`` or the pseudo labels
    ``(num_samples,)``. A freshly built model holds them empty, so a plain
    ``load_state_dict`` (and MMEngine's ``resume`` and ``load_from``, which
    go through ``_load_from_state_dict`` too) would fail on a size mismatch.
    Buffers named in :attr:`resizable_buffers` are re-allocated to the
    incoming shape (keeping their own dtype and device) just before the
    values are copied.

    List the mixin *before* the ``nn.Module`` base so that its
    ``_load_from_state_dict`` comes first in the MRO; subclassing in the
    other order raises ``TypeError``::

        class MyMemory(ResizableBufferMixin, BaseModule):
            resizable_buffers = ('bank', )

    Attributes:
        resizable_buffers (tuple[str]): Names of the resizable buffers of
            this module (not of its children: each module resizes its own).
    """

    resizable_buffers: ClassVar[Tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        if nn.Module in mro and (mro.index(nn.Module)
                                 < mro.index(ResizableBufferMixin)):
            raise TypeError(
                f'{cls.__name__}: list ResizableBufferMixin before the '
                'nn.Module base class, otherwise its _load_from_state_dict '
                'is never called')

    def _load_from_state_dict(self, state_dict: Dict[str, torch.Tensor],
                              prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: List[str],
                              unexpected_keys: List[str],
                              error_msgs: List[str]) -> None:
        for name in self.resizable_buffers:
            incoming = state_dict.get(prefix + name)
            current = self._buffers.get(name)  # type: ignore[attr-defined]
            if (isinstance(incoming, torch.Tensor) and current is not None
                    and incoming.shape != current.shape):
                self._buffers[name] = current.new_empty(  # type: ignore
                    incoming.shape)
        super()._load_from_state_dict(  # type: ignore[misc]
            state_dict, prefix, local_metadata, strict, missing_keys,
            unexpected_keys, error_msgs)
