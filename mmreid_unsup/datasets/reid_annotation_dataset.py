"""A re-ID dataset described by CSV annotation files."""
import codecs
import csv
import io
import os.path as osp
from typing import Dict, List, Optional

from mmreid_unsup.registry import DATASETS
from .base_reid_dataset import BaseReIDDataset

#: Largest id an int64 array (``get_pids``, ``get_camids``) holds.
INT64_MAX = 2**63 - 1


@DATASETS.register_module()
class ReIDAnnotationDataset(BaseReIDDataset):
    """Images listed in CSV files with the header ``filename,pid,camid``.

    ``filename`` is relative to ``data_root``; ``pid`` and ``camid`` are
    integers. Extra columns are ignored. A ``pid`` of ``-1`` marks a junk
    image, which is dropped. Bad rows go into the bad-data report, each
    named by file and line, and the dataset's ``bad_data`` decides whether
    they stop the build (``'error'``) or are left out (``'skip'``):

    - ``bad_name``: an empty filename;
    - ``missing_id``: a missing or non-integer ``pid`` / ``camid``, a pid
      below -1, a pid or camid beyond int64, a camid below ``camid_base``;
    - ``duplicate``: a filename listed before, also under another spelling
      of the same path (``./a.jpg``, ``img//a.jpg``, ``x/../a.jpg``);
    - ``outside_root``: an absolute filename, or one that climbs out of
      ``data_root`` with ``..`` (checked on the spelling, not through
      symbolic links, which may point anywhere).

    Filenames are normalised (``osp.normpath``). The file must be UTF-8
    (a byte-order mark is allowed); another encoding stops the build with
    the file, line and bytes that are not UTF-8.

    Camera numbering: the files store cameras as they were numbered at the
    source, possibly from 1. Every camid is mapped by the same fixed rule,
    ``camid = raw_camid - camid_base``, for every file of the dataset, so a
    camera keeps its index in train, query and gallery whatever cameras a
    particular file happens to contain. A raw camid below ``camid_base`` is
    an error. (The CUHK03 development splits in ``data/cuhk03``
    number their cameras from 1: use ``camid_base=1``.)

    Example::

        dict(type='ReIDAnnotationDataset',
             data_root='data/cuhk03',
             split='test',
             query_ann_file='splits/dev_query.csv',
             gallery_ann_file='splits/dev_gallery.csv',
             camid_base=1)

    Args:
        data_root (str): The folder ``filename`` and relative annotation
            paths are relative to.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        ann_file (str): The CSV of the train split.
        query_ann_file (str): The CSV of the query split.
        gallery_ann_file (str): The CSV of the gallery split.
        camid_base (int): The number of the first camera in the files.
            Defaults to 0 (camids are read as they are).
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='ReIDAnnotationDataset')
    COLUMNS = ('filename', 'pid', 'camid')
    ANN_ARGS = dict(
        train='ann_file', query='query_ann_file', gallery='gallery_ann_file')

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 ann_file: str = '',
                 query_ann_file: str = '',
                 gallery_ann_file: str = '',
                 camid_base: int = 0,
                 **kwargs) -> None:
        self.query_ann_file = self._under_root(data_root, query_ann_file)
        self.gallery_ann_file = self._under_root(data_root, gallery_ann_file)
        self.camid_base = camid_base
        # BaseDataset joins ``ann_file`` with ``data_root`` itself.
        super().__init__(
            data_root=data_root, split=split, ann_file=ann_file, **kwargs)

    @staticmethod
    def _under_root(data_root: str, path: str) -> str:
        if path and data_root and not osp.isabs(path):
            return osp.join(data_root, path)
        return path

    def ann_file_of(self, split: str) -> str:
        """The annotation file of one split.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'``.

        Returns:
            str: Its path, joined with ``data_root`` when relative.
        """
        return getattr(self, self.ANN_ARGS[split])

    def describe_split(self, split: str) -> str:
        path = self.ann_file_of(split) or f'<{self.ANN_ARGS[split]}>'
        return (f'{path}: a CSV file with the header '
                f'"{",".join(self.COLUMNS)}" and one row per image, filename '
                f'relative to {self.data_root or "the working directory"}')

    def load_split(self, split: str) -> List[dict]:
        path = self.ann_file_of(split)
        if not path:
            raise ValueError(
                f'{self.dataset_name}: split {self.split!r} reads the '
                f'{split} annotations, but `{self.ANN_ARGS[split]}` is not '
                f'set; expected {self.describe_split(split)}')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{self.dataset_name}: annotation file {path} does not '
                f'exist; expected {self.describe_split(split)}')
        reader = csv.DictReader(
            io.StringIO(self._read_text(path, split), newline=''))
        self._check_header(reader.fieldnames, path, split)
        samples, first_line = [], {}
        for row in reader:
            sample = self._parse_row(row, path, reader.line_num, first_line)
            if sample is not None:
                samples.append(sample)
        return samples

    def _read_text(self, path: str, split: str) -> str:
        """The annotation file as text, or an error naming the bad bytes.

        Args:
            path (str): The CSV file.
            split (str): Its split, for the message.

        Returns:
            str: The decoded text, without the byte-order mark that files
            saved by spreadsheets start with.

        Raises:
            ValueError: If the file is not UTF-8.
        """
        with open(path, 'rb') as f:
            data = f.read()
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            return data[bom:].decode('utf-8')
        except UnicodeDecodeError as err:
            start, end = err.start + bom, err.end + bom
            line = data.count(b'\n', 0, start) + 1
            raise ValueError(
                f'{self.dataset_name}: {path}, line {line}: not UTF-8 text '
                f'(byte {start}, {data[start:end]!r}: '
                f'{err.reason}); expected {self.describe_split(split)}, '
                'saved as UTF-8 (e.g. `iconv -f latin1 -t utf-8 OLD > NEW`, '
                'or "CSV UTF-8" in a spreadsheet)') from None

    def _check_header(self, fieldnames, path: str, split: str) -> None:
        header = [name.strip() for name in fieldnames or []]
        missing = [c for c in self.COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f'{self.dataset_name}: {path} lacks the column(s) '
                f'{", ".join(missing)} (header: {",".join(header)!r}); '
                f'expected {self.describe_split(split)}')

    def _outside_root(self, filename: str) -> str:
        """Why ``filename`` lies outside ``data_root``, or '' if it does not.

        Without a ``data_root`` every path is accepted.

        Args:
            filename (str): The ``filename`` field.

        Returns:
            str: The reason, for the report, or ''.
        """
        if not self.data_root:
            return ''
        if osp.isabs(filename):
            return (f'is absolute; expected a path relative to data_root '
                    f'{self.data_root}')
        parts = osp.normpath(filename).split(osp.sep)
        if parts[0] == osp.pardir:
            return (f'climbs out of data_root {self.data_root} with '
                    f'{osp.pardir!r}; expected a path inside it')
        return ''

    def _parse_row(self, row: dict, path: str, line: int,
                   first_line: Dict[str, tuple]) -> Optional[dict]:
        """Parse one row; a bad one is reported (by file and line) and gives
        None.

        Args:
            row (dict): The CSV row.
            path (str): The annotation file.
            line (int): The row's line.
            first_line (dict): Normalised filename -> (line, spelling) of
                the rows seen so far, updated here.

        Returns:
            dict, optional: The sample, or None for a bad row.
        """
        # Surplus fields land under the key None: ignore them.
        row = {
            k.strip(): (v or '').strip()
            for k, v in row.items() if k is not None
        }
        where = f'{path}, line {line}'
        filename = row['filename']
        if not filename:
            self.report_bad_entry('bad_name', where, 'empty filename')
            return None
        outside = self._outside_root(filename)
        if outside:
            self.report_bad_entry('outside_root', where,
                                  f'filename {filename!r} {outside}')
            return None
        key = osp.normpath(filename)
        if key in first_line:
            first, spelling = first_line[key]
            alias = ('' if spelling == filename else
                     f', the same file as {spelling!r}')
            self.report_bad_entry(
                'duplicate', where, f'duplicate entry {filename!r} (first on '
                f'line {first}{alias})')
            return None
        values = {}
        for name in ('pid', 'camid'):
            try:
                values[name] = int(row[name])
            except ValueError:
                problem = (f'{name} {row[name]!r} is not an integer'
                           if row[name] else f'{name} is missing')
                self.report_bad_entry('missing_id', where, problem)
                return None
            if abs(values[name]) > INT64_MAX:
                self.report_bad_entry(
                    'missing_id', where, f'{name} {row[name]} does not fit '
                    f'in int64 (|{name}| <= {INT64_MAX})')
                return None
        if values['pid'] < -1:
            self.report_bad_entry(
                'missing_id', where, f'pid {values["pid"]} is negative; '
                'expected an id >= 0, or -1 for a junk image (dropped)')
            return None
        if values['camid'] < self.camid_base:
            self.report_bad_entry(
                'missing_id', where, f'camid {values["camid"]} is below '
                f'camid_base={self.camid_base}')
            return None
        # Only accepted rows count as the first entry of a file.
        first_line[key] = (line, filename)
        return dict(
            img_path=self._under_root(self.data_root, key),
            pid=values['pid'],
            camid=values['camid'] - self.camid_base)
