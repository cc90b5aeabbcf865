"""Per-image state in checkpoints: is it still the training set's?"""
from typing import Any, Dict, Optional, Union

from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmreid_unsup.datasets.fingerprint import (dataset_fingerprint,
                                               describe_change)
from ..feature_extraction import build_extraction_dataloader
from ..runners.reid_runner import is_resuming


class TrainSetStateMixin:
    """For hooks whose checkpointed state has one row per training image.

    Such a hook computes its state from the training set's features,
    extracted with the test pipeline through the loader
    :meth:`_get_dataloader` builds once from the hook's ``dataloader``
    argument (kept in ``_dataloader_cfg``). It records
    :meth:`train_set_fingerprint` in its checkpoint ``meta`` entry and, on
    resume, asks :meth:`train_set_change` whether the current training set
    is still the one the state was computed on. The fingerprint is computed
    once per dataset object (a pass over the sample list) and reused for
    every later checkpoint.
    """

    _fingerprint: Optional[Dict[str, Any]] = None
    _fingerprinted: Any = None
    _dataloader_cfg: Union[DataLoader, dict, None] = None

    def _get_dataloader(self, runner: Runner) -> DataLoader:
        """The extraction dataloader, built on first use and kept.

        Args:
            runner (Runner): The runner (its config and seed).

        Returns:
            DataLoader: The training set with the test pipeline.
        """
        self._dataloader_cfg = build_extraction_dataloader(
            runner, self._dataloader_cfg, type(self).__name__)
        return self._dataloader_cfg

    def train_set_fingerprint(self, runner: Runner) -> Dict[str, Any]:
        """:func:`~mmreid_unsup.datasets.dataset_fingerprint` of the
        training set, cached.

        Args:
            runner (Runner): The runner.

        Returns:
            dict: ``num_samples`` and ``sha1``.
        """
        dataset = runner.train_dataloader.dataset
        if self._fingerprinted is not dataset or self._fingerprint is None:
            self._fingerprint = dataset_fingerprint(dataset)
            self._fingerprinted = dataset
        return self._fingerprint

    def train_set_change(self, runner: Runner,
                         state: Dict[str, Any]) -> Optional[str]:
        """How the training set differs from the one ``state`` was saved
        with, or None.

        Args:
            runner (Runner): The runner.
            state (dict): The hook's ``meta`` entry of the checkpoint, with
                ``train_set`` (a fingerprint) or, in older checkpoints, only
                ``num_samples``.

        Returns:
            str | None: a sentence naming the difference; None also when
            the runner is not resuming (a checkpoint loaded for testing, or
            weights for fine-tuning), where the state is not reused.
        """
        if not is_resuming(runner):
            return None
        saved = state.get('train_set') or dict(
            num_samples=state.get('num_samples'))
        return describe_change(saved, self.train_set_fingerprint(runner))
