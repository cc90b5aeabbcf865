"""Extract the features of a whole dataset, in dataset order, on all ranks."""
import time
from contextlib import ExitStack
from typing import NamedTuple

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from mmreid_unsup.models.utils.denormals import denormals_flushed
from mmreid_unsup.utils.progress import progress_bar
from mmreid_unsup.utils.rank_collectives import all_gather_rows


@torch.no_grad()
def extract_dataset_features(model: torch.nn.Module,
                             dataloader: DataLoader,
                             progress: bool = True,
                             desc: str = 'extract features',
                             channels_last: bool = False,
                             flush_denormals: bool = True) -> torch.Tensor:
    """Features of every sample of ``dataloader.dataset``, in dataset order.

    Under DDP each rank runs its shard of the dataloader (a non-shuffling
    distributed sampler) and the features are all-gathered and put back in
    dataset order using each sample's ``sample_idx``, so every rank returns
    the same ``(N, D)`` tensor. Samples a padding sampler repeats are
    deduplicated.

    Args:
        model (nn.Module): A re-ID model (possibly wrapped) whose ``'tensor'``
            mode returns L2-normalised features.
        dataloader (DataLoader): Loads the dataset with the test pipeline.
        progress (bool): Show a progress bar on the main process.
        desc (str): The progress bar's label.
        channels_last (bool): Feed image batches in the channels-last
            memory format: convolutions then run on NHWC data (oneDNN on
            CPUs, cuDNN on GPUs) without converting the weights, which
            stay as training left them. The features equal the default
            layout's to float rounding (cosine > 0.99999), which is enough
            to send a chaotic training run down another path, so it is off
            by default; a data preprocessor with ``channels_last=True``
            (the fair protocol's configs) feeds such batches anyway.
            Defaults to False.
        flush_denormals (bool): Zero the model's denormal weights for the
            pass and put them back after it
            (:func:`~mmreid_unsup.models.utils.denormals.denormals_flushed`):
            on CPUs they slow every convolution that reads their outputs
            (the pass over the protocol's OSNet: 1.69x in NCHW, 1.53x with
            channels-last batches), and the features stay equal to
            rounding. A model without denormal weights gets exactly the
            features it got before. The weights end bit-identical.
            Defaults to True.

    Returns:
        Tensor: Features, shape ``(len(dataset), D)``, on the CPU.

    Raises:
        RuntimeError: If some sample of the dataset was never extracted.
    """
    module = model.module if is_model_wrapper(model) else model
    was_training = module.training
    module.eval()
    feats, indices = [], []
    num_batches = len(dataloader)
    try:
        with ExitStack() as stack:
            if flush_denormals:
                stack.enter_context(denormals_flushed(module))
            report = stack.enter_context(
                progress_bar(desc, num_batches, progress
                             and is_main_process()))
            for done, data in enumerate(dataloader, 1):
                data = module.data_preprocessor(data, False)
                inputs = data['inputs']
                if (channels_last and torch.is_tensor(inputs)
                        and inputs.dim() == 4):
                    inputs = inputs.contiguous(
                        memory_format=torch.channels_last)
                feats.append(module(inputs, mode='tensor'))
                indices.append(
                    torch.tensor([s.sample_idx for s in data['data_samples']],
                                 device=feats[-1].device))
                report(done, num_batches)
    finally:
        module.train(was_training)
    local_feats = torch.cat(feats)
    local_indices = torch.cat(indices)
    all_feats = all_gather_rows(local_feats).cpu()
    all_indices = all_gather_rows(local_indices).cpu()

    num_samples = len(dataloader.dataset)
    out = all_feats.new_zeros((num_samples, all_feats.shape[1]))
    seen = torch.zeros(num_samples, dtype=torch.bool)
    out[all_indices] = all_feats
    seen[all_indices] = True
    if not bool(seen.all()):
        missing = (~seen).nonzero().flatten()[:5].tolist()
        raise RuntimeError(
            f'extract_dataset_features: {int((~seen).sum())} of '
            f'{num_samples} samples were not extracted (first: {missing}); '
            'the dataloader must visit the whole dataset (no drop_last, '
            'a non-shuffling sampler)')
    return out


def build_extraction_dataloader(runner, dataloader, owner: str) -> DataLoader:
    """The loader of the training set with the test pipeline.

    Hooks that extract the training set's features (the cluster refresh,
    the instance-memory initialisation) take a ``dataloader`` argument:
    a built ``DataLoader``, a config, or ``None`` for the config's top-level
    ``cluster_dataloader``.

    Args:
        runner (Runner): The runner (its config and seed build the loader).
        dataloader (DataLoader | dict | None): What the hook was given.
        owner (str): The hook's name, for the error message.

    Returns:
        DataLoader: The built loader.
    """
    if isinstance(dataloader, DataLoader):
        return dataloader
    cfg = dataloader
    if cfg is None:
        cfg = runner.cfg.get('cluster_dataloader')
        if cfg is None:
            raise KeyError(
                f'{owner} needs `dataloader=` or a top-level '
                '`cluster_dataloader` in the config: the training set '
                'with the test pipeline (see configs/_base_/datasets/)')
    return runner.build_dataloader(cfg, seed=runner.seed)


class TrainSetFeatures(NamedTuple):
    """The training set's features, extracted for a hook.

    Attributes:
        dataloader (DataLoader): The extraction dataloader.
        features (Tensor): ``(N, D)`` features in dataset order, on the CPU.
        camids (Tensor): ``(N,)`` cameras of the samples.
        seconds (float): Wall time of the extraction itself.
    """

    dataloader: DataLoader
    features: torch.Tensor
    camids: torch.Tensor
    seconds: float


def extract_train_set_features(runner,
                               loader: DataLoader,
                               owner: str,
                               progress: bool = True,
                               desc: str = 'extract features'
                               ) -> TrainSetFeatures:
    """The start of every hook that works on the training set's features.

    Checks that the extraction dataloader (the training set with the test
    pipeline, :func:`build_extraction_dataloader`) lists as many samples as
    the training set, extracts the features on every rank
    (:func:`extract_dataset_features`) and reads the cameras. Used by
    :class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` and
    :class:`~mmreid_unsup.engine.hooks.InstanceMemoryHook`.

    Args:
        runner (Runner): The runner (its model and training set).
        loader (DataLoader): The built extraction dataloader.
        owner (str): The hook's name, for the messages.
        progress (bool): Show a progress bar on the main process.
        desc (str): The progress bar's label.

    Returns:
        TrainSetFeatures: The dataloader, features, cameras and the
        extraction's wall time.

    Raises:
        ValueError: If the extraction dataloader and the training set differ
            in length.
    """
    dataset = loader.dataset
    train_dataset = runner.train_dataloader.dataset
    if len(dataset) != len(train_dataset):
        raise ValueError(
            f'{owner}: the extraction dataloader has {len(dataset)} samples '
            f'but the training set has {len(train_dataset)}; both must list '
            'the same images')
    start = time.perf_counter()
    feats = extract_dataset_features(
        runner.model, loader, progress=progress, desc=desc)
    seconds = time.perf_counter() - start
    camids = torch.as_tensor(np.asarray(dataset.get_camids()))
    return TrainSetFeatures(loader, feats, camids, seconds)


def unwrap_model(runner) -> torch.nn.Module:
    """The runner's model without its DDP (or other) wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model
