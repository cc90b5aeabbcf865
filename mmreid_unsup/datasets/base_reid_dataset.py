"""The base class of every person re-ID dataset."""
import logging
import time
from typing import Any, Callable, List, Optional, Sequence, Set, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.logging import print_log

from mmreid_unsup.utils.random_state import seeded_random_state

from .bad_data_report import BadDataError, BadDataReport, BrokenImageError
from .holdout import select_holdout_ids, split_query_gallery
from .image_probe import CHECK_LEVELS, image_fault, probe_image

BAD_DATA_POLICIES = ('error', 'skip')


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

    Bad data, found when the dataset is built: ``load_split`` reports the
    entries it cannot parse (:meth:`report_bad_entry`: file names that do
    not match the naming pattern, missing or invalid ids in an annotation
    file); this class adds duplicate entries and, with ``image_check``, the
    files the pipeline cannot load (missing, unreadable, zero-byte, not an
    image, truncated or corrupt) and those it converts (grayscale, alpha,
    16-bit, palette / CMYK). One report, counts per kind and the first paths
    of each, goes to MMEngine's logger; ``bad_data`` decides whether
    unusable entries stop the build (:class:`BadDataError`) or are dropped.
    Nothing is cached: every build checks the files as they are.

    Bad data during training: a sample whose image fails to load although
    it passed the build check (deleted or damaged since) is logged and
    skipped: :meth:`prepare_data` returns None and ``BaseDataset`` loads
    another random sample of the dataset in its place, which carries its
    own ``sample_idx`` (so memories indexed by ``sample_idx`` stay right)
    and its own pseudo label. More than ``max_broken_images`` different
    broken files in one process stop the run with
    :class:`BrokenImageError`. Evaluation splits and ``test_mode=True``
    datasets (feature extraction) cannot skip a sample without shifting
    every index after it, so there a broken image raises
    :class:`BrokenImageError` naming the file. A failure whose file still
    decodes is not bad data: the pipeline is retried once (a transient I/O
    error), and a second failure is raised as it is.

    Reproducible augmentation: an index that carries a ``seed`` (a
    :class:`~mmreid_unsup.datasets.samplers.seeded_index.SeededIndex`, as
    this toolbox's training samplers yield) is loaded inside
    :func:`~mmreid_unsup.utils.seeded_random_state`, so its random
    transforms depend on that seed only, not on the process that loads it
    (see :meth:`__getitem__`).

    Each entry of the data list holds:

    - ``img_path`` (str): the image file.
    - ``pid`` (int): the ground-truth identity, as the dataset numbers it
      (not relabelled; Market-1501's distractors keep ``pid 0``), or
      ``UNKNOWN_PID`` (-2) for crops of unknown identity
      (:class:`~mmreid_unsup.datasets.CameraFolderDataset`).
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
            None is an error instead of a reason to draw another sample, and
            so is a broken image. Set for the loaders that extract features
            or evaluate. Defaults to False.
        num_holdout_ids (int): training identities held out for validation.
            Defaults to 0 (none).
        holdout_seed (int): seed of the held-out identities and of their
            query choice. Defaults to 0.
        bad_data (str): What unusable entries do when the dataset is
            built: ``'error'`` stops with the report (:class:`BadDataError`),
            ``'skip'`` logs it as a warning and drops them. Defaults to
            ``'error'``.
        image_check (str): How the files are checked when the dataset is
            built: ``'header'`` (cheap: exists, not empty, an image header,
            JPEG / PNG end marker), ``'decode'`` (also decodes every image,
            as ``LoadImageFromFile`` does) or ``'none'``. Paths with a
            ``scheme://`` prefix (remote storage) are not checked.
            Defaults to ``'header'``.
        convert_images (bool): Accept grayscale, alpha-channel, 16-bit and
            other non-RGB images (``LoadImageFromFile`` converts them to
            3-channel 8-bit BGR) and only report them; False counts them as
            unusable. Defaults to True.
        max_broken_images (int, optional): How many different images may
            fail to load during training, in one process (each dataloader
            worker counts its own), before the run stops. None allows
            ``max(10, 1%)`` of the dataset. Defaults to None.
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
                 bad_data: str = 'error',
                 image_check: str = 'header',
                 convert_images: bool = True,
                 max_broken_images: Optional[int] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if bad_data not in BAD_DATA_POLICIES:
            raise ValueError(f'{name}: bad_data must be one of '
                             f'{BAD_DATA_POLICIES}, got {bad_data!r}')
        if image_check not in CHECK_LEVELS:
            raise ValueError(f'{name}: image_check must be one of '
                             f'{CHECK_LEVELS}, got {image_check!r}')
        if max_broken_images is not None and (
                not isinstance(max_broken_images, int)
                or max_broken_images < 0):
            raise ValueError(f'{name}: max_broken_images must be None or a '
                             f'non-negative int, got {max_broken_images!r}')
        self.bad_data = bad_data
        self.image_check = image_check
        self.convert_images = bool(convert_images)
        self.max_broken_images = max_broken_images
        self.bad_data_report: Optional[BadDataReport] = None
        self._report: Optional[BadDataReport] = None
        self._broken_paths: Set[str] = set()
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
            the caller drops them. Entries that cannot be parsed (a file name
            off the naming pattern, a missing id...) are left out and passed
            to :meth:`report_bad_entry` instead.

        Raises:
            FileNotFoundError: A folder or file of the layout is missing.
            ValueError: The layout itself is wrong (e.g. a missing column).
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

    def report_bad_entry(self,
                         kind: str,
                         location: str,
                         detail: str = '') -> None:
        """Record an entry that :meth:`load_split` leaves out.

        Args:
            kind (str): ``'bad_name'``, ``'missing_id'`` or ``'duplicate'``
                (see :data:`~.bad_data_report.UNUSABLE_KINDS`).
            location (str): The file, or the annotation file and line.
            detail (str): What is wrong and what was expected.

        Raises:
            RuntimeError: If called outside :meth:`load_data_list`.
        """
        if self._report is None:
            raise RuntimeError(
                f'{self.dataset_name}.report_bad_entry is for load_split, '
                'while load_data_list builds the dataset')
        self._report.add(kind, location, detail)

    def load_data_list(self) -> List[dict]:
        """Load the split: the parts it consists of, in order, without the
        entries the bad-data check rejects.

        Returns:
            list[dict]: The samples, see the class docstring.

        Raises:
            BadDataError: If some entries are unusable and ``bad_data`` is
                ``'error'``.
            ValueError: If a part of the split is empty.
        """
        parts = dict(
            test=('query', 'gallery'), holdout=('train', )).get(
                self.split, (self.split, ))
        report = self._report = BadDataReport(
            f'{self.dataset_name}, split {self.split!r}')
        try:
            loaded = [(part, self._load_part(part)) for part in parts]
        finally:
            self._report = None
        data_list = [sample for _, samples in loaded for sample in samples]
        report.num_entries = len(data_list) + report.num_unusable
        self._find_duplicates(data_list, report)
        self._check_images(data_list, report)
        self._apply_bad_data_policy(report)
        data_list, start = [], 0
        for part, samples in loaded:
            kept = [
                s for i, s in enumerate(samples, start)
                if i not in report.unusable_indices
            ]
            start += len(samples)
            if not kept:
                dropped = (f' ({report.num_unusable} unusable entries were '
                           'left out, see the bad-data report)'
                           if report.num_unusable else '')
                raise ValueError(
                    f'{self.dataset_name}: the {part!r} split is empty'
                    f'{dropped}; expected {self.describe_split(part)}')
            data_list += kept
        report.unusable_indices = set()
        self.bad_data_report = report
        if self.num_holdout_ids and self.split in ('train', 'holdout'):
            data_list = self._apply_holdout(data_list)
        return data_list

    def _load_part(self, part: str) -> List[dict]:
        """One part's samples without junk, with checked fields."""
        samples = []
        for sample in self.load_split(part):
            if sample['pid'] == -1:
                continue
            checked = self._checked(sample, part == 'query')
            if checked is not None:
                samples.append(checked)
        return samples

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

    def _checked(self, sample: dict, is_query: bool) -> Optional[dict]:
        """Validate the types of one sample and set its ``is_query``; None
        (and a ``missing_id`` entry in the report) for an invalid id."""
        path = str(sample['img_path'])
        try:
            pid, camid = int(sample['pid']), int(sample['camid'])
        except (TypeError, ValueError):
            self.report_bad_entry(
                'missing_id', path, f'pid {sample["pid"]!r} or camid '
                f'{sample["camid"]!r} is not an integer')
            return None
        if camid < 0:
            self.report_bad_entry('missing_id', path,
                                  f'negative camid {camid}; camids are '
                                  '0-based')
            return None
        return dict(
            sample, img_path=path, pid=pid, camid=camid, is_query=is_query)

    def _find_duplicates(self, data_list: List[dict],
                         report: BadDataReport) -> None:
        """Report every entry whose image occurred before (e.g. in query and
        gallery); the first one is kept."""
        first = {}
        for index, sample in enumerate(data_list):
            path = sample['img_path']
            if path in first:
                report.add(
                    'duplicate', path, f'occurs more than once in split '
                    f'{self.split!r} (entries {first[path]} and {index})',
                    index)
            else:
                first[path] = index

    def _check_images(self, data_list: List[dict],
                      report: BadDataReport) -> None:
        """Probe every file (``image_check``) and report what is wrong."""
        report.image_check = self.image_check
        if self.image_check == 'none':
            return
        begin = time.perf_counter()
        for index, sample in enumerate(data_list):
            path = sample['img_path']
            if index in report.unusable_indices or '://' in path:
                continue
            probe = probe_image(path, self.image_check)
            report.num_files_checked += 1
            if probe.problem:
                report.add(probe.problem, path, probe.detail, index)
            elif probe.convertible:
                report.add(
                    probe.convertible,
                    path,
                    probe.detail,
                    index,
                    unusable=not self.convert_images)
        report.check_seconds = time.perf_counter() - begin

    def _apply_bad_data_policy(self, report: BadDataReport) -> None:
        """Log the report; stop on unusable entries if ``bad_data='error'``.
        """
        if not report:
            checked = ('' if self.image_check == 'none' else
                       f' ({self.image_check} check of '
                       f'{report.num_files_checked} files, '
                       f'{report.check_seconds:.2f} s)')
            print_log(
                f'{report.name}: {report.num_entries} entries, no bad data'
                f'{checked}',
                logger='current',
                level=logging.INFO)
            return
        text = report.format(converted=self.convert_images)
        if report.num_unusable and self.bad_data == 'error':
            raise BadDataError(
                f'{text}\nbad_data=\'error\': fix or remove these entries, '
                "or set bad_data='skip' in the dataset config to drop the "
                'unusable ones with a warning')
        if report.num_unusable:
            text += (f"\nbad_data='skip': the {report.num_unusable} unusable "
                     'entries are left out')
        print_log(text, logger='current', level=logging.WARNING)

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on one sample; None for a broken image.

        Args:
            idx (int): The sample's index.

        Returns:
            Any: The pipeline's output, or None when the sample's image can
            no longer be loaded (``BaseDataset`` then draws another sample
            in training, see the class docstring).

        Raises:
            BrokenImageError: If the image cannot be loaded and the dataset
                may not skip it, or too many images broke.
        """
        data_info = self.get_data_info(idx)
        path = str(data_info.get('img_path', ''))
        try:
            data = self.pipeline(data_info)
        except Exception as err:
            fault = self._fault_of(path)
            if fault is None:
                # The file decodes: retry once (a transient I/O error); a
                # second failure is not bad data and is raised as it is.
                return self.pipeline(self.get_data_info(idx))
            self._on_broken_image(idx, path, fault, err)
            return None
        if data is None:  # e.g. LoadImageFromFile(ignore_empty=True)
            fault = self._fault_of(path)
            if fault is not None:
                self._on_broken_image(idx, path, fault, None)
        return data

    @staticmethod
    def _fault_of(path: str) -> Optional[str]:
        if not path or '://' in path:
            return None
        return image_fault(path)

    def _on_broken_image(self, idx: int, path: str, fault: str,
                         err: Optional[BaseException]) -> None:
        """Stop, or log the skip and count it against the bound."""
        cause = f' ({type(err).__name__}: {err})' if err is not None else ''
        what = (f'{self.dataset_name}: cannot load sample {idx}, {path}: '
                f'{fault}{cause}')
        if self.test_mode or self.split != 'train':
            raise BrokenImageError(
                f'{what}. It passed the check when the dataset was built, so '
                'it changed since. Evaluation and feature extraction cannot '
                'skip a sample without shifting the indices of the others: '
                'restore the file and resume (--resume)')
        first_time = path not in self._broken_paths
        self._broken_paths.add(path)
        limit = self.max_broken_images
        if limit is None:
            limit = max(10, len(self) // 100)
        if len(self._broken_paths) > limit:
            raise BrokenImageError(
                f'{what}. {len(self._broken_paths)} different images failed '
                f'to load in this process, more than max_broken_images='
                f'{limit}: is the data still there? First ones: '
                f'{sorted(self._broken_paths)[:5]}')
        if first_time:
            print_log(
                f'{what}; skipped: another random sample of the dataset '
                'takes its place in the batch, with its own sample_idx '
                f'({len(self._broken_paths)} broken image(s) in this process, '
                f'limit {limit})',
                logger='current',
                level=logging.WARNING)

    def __getitem__(self, idx: int) -> Any:
        """The pipeline's output for sample ``idx``.

        When ``idx`` carries a ``seed`` (a ``SeededIndex``), Python's,
        NumPy's and torch's global generators are seeded with it for this
        sample only (a replacement sample drawn for a broken image
        included) and restored afterwards: the augmentation is the same in
        the main process, in any dataloader worker, and after a resume in
        the middle of an epoch.

        Args:
            idx (int): The sample's index, possibly a ``SeededIndex``.

        Returns:
            Any: What ``BaseDataset.__getitem__`` returns.
        """
        seed = getattr(idx, 'seed', None)
        if seed is None:
            return super().__getitem__(idx)
        with seeded_random_state(seed):
            return super().__getitem__(int(idx))

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
