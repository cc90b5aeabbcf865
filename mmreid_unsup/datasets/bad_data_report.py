"""The report of a dataset's bad entries, built while the dataset loads."""
from collections import Counter
from typing import Dict, List, NamedTuple, Optional, Set

# Entries the pipeline cannot use, in report order, with what they mean.
UNUSABLE_KINDS: Dict[str, str] = {
    'missing': 'file does not exist',
    'unreadable': 'file cannot be read (permissions, I/O error)',
    'empty': 'zero-byte file',
    'not_image': 'not an image file',
    'corrupt': 'truncated or corrupt image',
    'bad_name': "file name does not match the dataset's naming pattern",
    'duplicate': 'entry listed more than once (the first one is kept)',
    'missing_id': 'pid or camid missing or invalid in the annotations',
    'outside_root': 'path outside data_root (absolute, or climbing out '
    'with ..)',
}
# Images ``LoadImageFromFile`` converts to 3-channel 8-bit BGR when loading.
CONVERTIBLE_KINDS: Dict[str, str] = {
    'grayscale': 'grayscale image',
    'alpha': 'image with an alpha channel, which is dropped',
    'high_bit_depth': '16-bit image, scaled to 8 bits',
    'other_mode': 'palette, CMYK or other colour mode',
}


class BadDataError(ValueError):
    """A dataset has unusable entries and its ``bad_data`` is ``'error'``.

    The message is the full report: counts per kind and the first entries
    of each.
    """


class BrokenImageError(RuntimeError):
    """An image could not be loaded where no sample may be skipped
    (evaluation, feature extraction), or too many images broke during
    training (``max_broken_images``)."""


class BadEntry(NamedTuple):
    """One problem found in a dataset.

    Attributes:
        kind (str): A key of :data:`UNUSABLE_KINDS` or
            :data:`CONVERTIBLE_KINDS`.
        location (str): The file, or ``'<annotation file>, line N'``.
        detail (str): What was found.
        index (int, optional): The entry's position in the list being
            checked, None for an entry rejected while parsing.
    """

    kind: str
    location: str
    detail: str = ''
    index: Optional[int] = None


class BadDataReport:
    """Bad entries of one dataset split, counted by kind.

    A dataset adds the entries it rejects while parsing (``bad_name``,
    ``duplicate``, ``missing_id``) and those its image check finds; the
    report keeps every count but only the first ``max_listed`` entries of
    each kind, so it stays small for a set with thousands of bad files.

    Attributes:
        counts (Counter): Entries per kind.
        num_unusable (int): Entries to drop (parsed or not; convertible
            images too when they are rejected).
        unusable_indices (set[int]): Positions of the entries to drop in
            the checked list.
        num_entries (int): Entries seen, bad ones included.
        image_check (str): The dataset's ``image_check`` level.
        num_files_checked (int): Files the image check opened.
        check_seconds (float): Wall time of the image check.

    Args:
        name (str): What was checked, e.g. ``"Market1501, split 'train'"``.
        max_listed (int): Entries listed per kind. Defaults to 5.
    """

    def __init__(self, name: str, max_listed: int = 5) -> None:
        self.name = name
        self.max_listed = max_listed
        self.counts: Counter = Counter()
        self.listed: Dict[str, List[BadEntry]] = {}
        self.unusable_indices: Set[int] = set()
        self.num_unusable = 0
        self.num_entries = 0
        self.image_check = 'none'
        self.num_files_checked = 0
        self.check_seconds = 0.0

    def add(self,
            kind: str,
            location: str,
            detail: str = '',
            index: Optional[int] = None,
            unusable: Optional[bool] = None) -> None:
        """Record one bad entry.

        Args:
            kind (str): A key of :data:`UNUSABLE_KINDS` or
                :data:`CONVERTIBLE_KINDS`.
            location (str): The file or the annotation line.
            detail (str): What was found. Defaults to ''.
            index (int, optional): Position of the entry in the checked
                list, for entries that are in it. Defaults to None.
            unusable (bool, optional): Whether the entry must be dropped;
                None (default) decides by ``kind`` (a convertible kind is
                usable).

        Raises:
            KeyError: If ``kind`` is unknown.
        """
        if kind not in UNUSABLE_KINDS and kind not in CONVERTIBLE_KINDS:
            raise KeyError(f'BadDataReport: unknown kind {kind!r}; expected '
                           f'one of {list(UNUSABLE_KINDS)} or '
                           f'{list(CONVERTIBLE_KINDS)}')
        self.counts[kind] += 1
        listed = self.listed.setdefault(kind, [])
        if len(listed) < self.max_listed:
            listed.append(BadEntry(kind, location, detail, index))
        if unusable is None:
            unusable = kind in UNUSABLE_KINDS
        if unusable:
            self.num_unusable += 1
            if index is not None:
                self.unusable_indices.add(index)

    @property
    def num_convertible(self) -> int:
        """int: Images converted when loaded."""
        return sum(self.counts[k] for k in CONVERTIBLE_KINDS)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def to_dict(self) -> dict:
        """The counts and listed entries, e.g. for a JSON file.

        Returns:
            dict: ``name``, ``num_entries``, ``image_check``,
            ``num_files_checked``, ``check_seconds``, ``counts`` and
            ``examples`` (kind -> list of ``location: detail``).
        """
        return dict(
            name=self.name,
            num_entries=self.num_entries,
            image_check=self.image_check,
            num_files_checked=self.num_files_checked,
            check_seconds=round(self.check_seconds, 3),
            counts=dict(self.counts),
            examples={
                kind: [self._line(e) for e in entries]
                for kind, entries in self.listed.items()
            })

    def format(self, converted: bool = True) -> str:
        """The report as text: a summary line, then one block per kind.

        Args:
            converted (bool): Whether convertible images are converted at
                load time (else they were counted as unusable). Defaults to
                True.

        Returns:
            str: E.g.::

                Market1501, split 'train': 2 of 40 entries unusable, 1
                convertible (header check of 39 files, 0.02 s)
                  missing (file does not exist): 1
                    /data/bounding_box_train/0002_c1s1_000451_03.jpg: ...
        """
        check = 'no image check' if self.image_check == 'none' else (
            f'{self.image_check} check of {self.num_files_checked} files, '
            f'{self.check_seconds:.2f} s')
        lines = [
            f'{self.name}: {self.num_unusable} of {self.num_entries} '
            f'entries unusable, {self.num_convertible} convertible '
            f'({check})'
        ]
        kinds = dict(UNUSABLE_KINDS)
        for kind, meaning in CONVERTIBLE_KINDS.items():
            kinds[kind] = meaning + (
                ', converted to 3-channel 8-bit when loaded'
                if converted else ', rejected (convert_images=False)')
        for kind, meaning in kinds.items():
            if not self.counts[kind]:
                continue
            lines.append(f'  {kind} ({meaning}): {self.counts[kind]}')
            lines += [f'    {self._line(e)}' for e in self.listed[kind]]
            if self.counts[kind] > len(self.listed[kind]):
                lines.append(f'    ... and '
                             f'{self.counts[kind] - len(self.listed[kind])} '
                             'more')
        return '\n'.join(lines)

    @staticmethod
    def _line(entry: BadEntry) -> str:
        return f'{entry.location}: {entry.detail}' if entry.detail \
            else entry.location
