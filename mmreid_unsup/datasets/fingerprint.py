"""A training set's fingerprint, to tell whether a checkpoint's state fits it.

Pseudo labels and instance memories in a checkpoint hold one entry per
training image, in dataset order. They only mean something for the image
list they were computed on: if images were added, removed (for instance
skipped by ``bad_data='skip'`` after a file went missing) or reordered
between a run and its resume, row ``i`` belongs to another image. The hooks
that keep such state store :func:`dataset_fingerprint` in the checkpoint's
``meta`` and compare it on resume with :func:`describe_change`.

The fingerprint hashes, in dataset order, each sample's image path relative
to its dataset's ``data_root`` (so a dataset moved to another disk keeps its
fingerprint) and its camera. Identities are left out: unsupervised training
does not read them.
"""
import hashlib
import os
from typing import Any, Dict, Optional

__all__ = ['dataset_fingerprint', 'describe_change']


def _relative_path(path: str, root: str) -> str:
    if root:
        rel = os.path.relpath(path, root)
        if not rel.startswith(os.pardir):
            return rel.replace(os.sep, '/')
    return os.path.basename(path)


def dataset_fingerprint(dataset: Any) -> Dict[str, Any]:
    """Size and content hash of a dataset's sample list.

    Args:
        dataset: A dataset with ``__len__`` and ``get_data_info(idx)``
            returning dicts with ``img_path`` (and ``camid``), like
            :class:`~mmreid_unsup.datasets.BaseReIDDataset` or MMEngine's
            ``ConcatDataset`` of them.

    Returns:
        dict: ``num_samples`` (int) and ``sha1`` (hex str of the ordered
        relative paths and cameras; ``None`` when the dataset cannot list
        its samples).
    """
    num = len(dataset)
    if not hasattr(dataset, 'get_data_info'):
        return dict(num_samples=num, sha1=None)
    root = str(getattr(dataset, 'data_root', '') or '')
    digest = hashlib.sha1()
    for idx in range(num):
        info = dataset.get_data_info(idx)
        path = _relative_path(str(info.get('img_path', idx)), root)
        digest.update(f"{path}\t{info.get('camid', '')}\n".encode())
    return dict(num_samples=num, sha1=digest.hexdigest())


def describe_change(saved: Optional[Dict[str, Any]],
                    current: Dict[str, Any]) -> Optional[str]:
    """How a checkpoint's training set differs from the current one.

    Args:
        saved (dict, optional): the checkpoint's fingerprint; older
            checkpoints may hold only ``num_samples`` or nothing.
        current (dict): :func:`dataset_fingerprint` of the current set.

    Returns:
        str | None: ``None`` when nothing shows a difference, else a
        sentence naming what differs.
    """
    if not saved:
        return None
    then, now = saved.get('num_samples'), current['num_samples']
    if then is not None and then != now:
        return (f'the checkpoint was trained on {then:,} images, the '
                f'training set now has {now:,}')
    if saved.get('sha1') and current.get('sha1') and (saved['sha1'] !=
                                                        current['sha1']):
        return (f'the training set has the same number of images ({now:,}) '
                'but other files, cameras or order than the checkpoint '
                f"(list hash {saved['sha1'][:12]} then, "
                f"{current['sha1'][:12]} now)")
    return None
