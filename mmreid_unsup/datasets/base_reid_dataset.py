"""The base class of every person re-ID dataset."""
from collections import Counter
from typing import Callable, List, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init

from .holdout import select_holdout_ids, split_query_gallery


class BaseReIDDataset(BaseDataset):
    """A person re-ID image set: one split of a dataset.

    A re-ID benchmark comes in three parts: ``'train'`` (unlabeled for the
    methods of this toolbox; the identities are kept for diagnostics only),
    ``'query'`` and ``'gallery'``. ``split='test'`` is the evaluation set,
    the queries followed by the gallery, each sample telling which it is by
    ``is_query``.

    Validation without the test set: ``num_holdout_ids=n`` takes ``n``
    training identities away from ``split='train'``, and
    ``split='holdout'`` (same ``n`` and ``holdout_seed``) returns their
    images as a validation query / gallery, queries first (rules in
    :mod:`mmreid_unsup.datasets.holdout`). The option only concerns the
    training images: ``'query'``, ``'gallery'`` and ``'test'`` ignore it, so
    one dataset config can carry it for every dataloader.

    Subclasses implement :meth:`load_split` for ``'train'``, ``'query'`` and
    ``'gallery'`` and :meth:`describe_split`, the expected layout that every
    error message quotes. This class puts the parts together, drops junk
    images (``pid == -1``), checks the samples and fails with one clear error
    on an empty split.

    Each entry of the data list holds:

    - ``img_path`` (str): the image file.
    - ``pid`` (int): the ground-truth identity, as the dataset numbers it
      (not relabelled; Market-1501's distractors keep ``pid 0``).
    - ``camid`` (int): the camera, 0-based.
    - ``is_query`` (bool): True for queries, False otherwise (also in train).

    ``BaseDataset`` adds ``sample_idx``, the index of the sample.

    Args:
        data_root (str): The dataset's root folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'``, ``'test'``
            (query followed by gallery) or ``'holdout'`` (held-out training
            identities as query followed by gallery). Defaults to
            ``'train'``.
        pipeline (Sequence[dict | Callable]): The data transforms.
        test_mode (bool): ``BaseDataset``'s test mode: a pipeline returning
            None is an error instead of a reason to draw another sample.
            Defaults to False.
        num_holdout_ids (int): training identities held out for validation.
            Defaults to 0 (none).
        holdout_seed (int): seed of the held-out identities and of their
            query choice. Defaults to 0.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``metainfo``, ``indices``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``...).
    """

    METAINFO: dict = dict(dataset_name='BaseReIDDataset')
    SPLITS = ('train', 'query', 'gallery', 'test', 'holdout')

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 num_holdout_ids: int = 0,
                 holdout_seed: int = 0,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{self.SPLITS}, got {split!r}')
        if not isinstance(num_holdout_ids, int) or num_holdout_ids < 0:
            raise ValueError(f'{type(self).__name__}: num_holdout_ids must be '
                             f'a non-negative int, got {num_holdout_ids!r}')
        if split == 'holdout' and num_holdout_ids == 0:
            raise ValueError(
                f"{type(self).__name__}: split='holdout' needs "
                'num_holdout_ids > 0 (the number of training identities '
                'held out for validation)')
        self.split = split
        self.num_holdout_ids = num_holdout_ids
        self.holdout_seed = holdout_seed
        super().__init__(
            data_root=data_root,
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs)
        self._metainfo.setdefault('split', split)
        if num_holdout_ids and split in ('train', 'holdout'):
            self._metainfo.setdefault('num_holdout_ids', num_holdout_ids)
            self._metainfo.setdefault('holdout_seed', holdout_seed)

    def load_split(self, split: str) -> List[dict]:
        """Read one part of the dataset.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'``.

        Returns:
            list[dict]: One dict per image with ``img_path``, ``pid`` and
            ``camid`` (0-based). Junk images (``pid == -1``) may be included;
            the caller drops them.

        Raises:
            FileNotFoundError: A folder or file of the layout is missing.
            ValueError: A file name or an annotation cannot be parsed.
        """
        raise NotImplementedError

    def describe_split(self, split: str) -> str:
        """The layout :meth:`load_split` expects, for error messages.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'``.

        Returns:
            str: E.g. ``'<root>/query/*.jpg named like
            0001_c1s1_000151_01.jpg'`` with the real root.
        """
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """Load the split: the parts it consists of, in order.

        Returns:
            list[dict]: The samples, see the class docstring.
        """
        parts = dict(
            test=('query', 'gallery'), holdout=('train', )).get(
                self.split, (self.split, ))
        data_list = []
        for part in parts:
            samples = [s for s in self.load_split(part) if s['pid'] != -1]
            if not samples:
                raise ValueError(
                    f'{self.dataset_name}: the {part!r} split is empty; '
                    f'expected {self.describe_split(part)}')
            for sample in samples:
                data_list.append(self._checked(sample, part == 'query'))
        if self.num_holdout_ids and self.split in ('train', 'holdout'):
            data_list = self._apply_holdout(data_list)
        self._check_unique_paths(data_list)
        return data_list

    def _apply_holdout(self, data_list: List[dict]) -> List[dict]:
        """Drop the held-out identities (``'train'``) or keep only them as
        query and gallery (``'holdout'``)."""
        try:
            held = select_holdout_ids(data_list, self.num_holdout_ids,
                                      self.holdout_seed)
        except ValueError as err:
            raise ValueError(f'{self.dataset_name}: {err}') from None
        if self.split == 'train':
            return [s for s in data_list if s['pid'] not in held]
        return split_query_gallery(data_list, held, self.holdout_seed)

    def _checked(self, sample: dict, is_query: bool) -> dict:
        """Validate the types of one sample and set its ``is_query``."""
        camid = int(sample['camid'])
        if camid < 0:
            raise ValueError(f'{self.dataset_name}: negative camid {camid} '
                             f'for {sample["img_path"]}; camids are 0-based')
        return dict(
            sample,
            img_path=str(sample['img_path']),
            pid=int(sample['pid']),
            camid=camid,
            is_query=is_query)

    def _check_unique_paths(self, data_list: List[dict]) -> None:
        """Fail if an image occurs twice (e.g. in query and gallery)."""
        counts = Counter(s['img_path'] for s in data_list)
        repeated = [path for path, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(
                f'{self.dataset_name}: {len(repeated)} image(s) occur more '
                f'than once in split {self.split!r}, e.g. {repeated[0]}')

    @property
    def dataset_name(self) -> str:
        """str: The dataset's name, from ``metainfo``."""
        return self._metainfo.get('dataset_name', type(self).__name__)

    @force_full_init
    def get_pids(self) -> np.ndarray:
        """The identity of every sample, in dataset order.

        Returns:
            np.ndarray: ``int64`` array of shape ``(len(self), )``.
        """
        return self._collect('pid', np.int64)

    @force_full_init
    def get_camids(self) -> np.ndarray:
        """The 0-based camera of every sample, in dataset order.

        Returns:
            np.ndarray: ``int64`` array of shape ``(len(self), )``.
        """
        return self._collect('camid', np.int64)

    @force_full_init
    def get_is_query(self) -> np.ndarray:
        """Whether each sample is a query, in dataset order.

        Returns:
            np.ndarray: ``bool`` array of shape ``(len(self), )``.
        """
        return self._collect('is_query', bool)

    def _collect(self, key: str, dtype: type) -> np.ndarray:
        # One pass over the (possibly serialized) data list: O(N), not
        # cached, so it stays right after ``get_subset_``.
        values = [self.get_data_info(i)[key] for i in range(len(self))]
        return np.asarray(values, dtype=dtype)

    @property
    def num_ids(self) -> int:
        """int: The number of distinct identities (a distractor ``pid 0``
        counts as one)."""
        return int(np.unique(self.get_pids()).size)

    @property
    def num_cams(self) -> int:
        """int: The number of camera slots: every camid lies in
        ``[0, num_cams)``, so per-camera tables can be indexed by camid."""
        camids = self.get_camids()
        return int(camids.max()) + 1 if camids.size else 0
