"""A re-ID dataset described by CSV annotation files."""
import csv
import os.path as osp
from typing import Dict, List, Optional

from mmreid_unsup.registry import DATASETS
from .base_reid_dataset import BaseReIDDataset


@DATASETS.register_module()
class ReIDAnnotationDataset(BaseReIDDataset):
    """Images listed in CSV files with the header ``filename,pid,camid``.

    ``filename`` is relative to ``data_root``; ``pid`` and ``camid`` are
    integers. Extra columns are ignored. A ``pid`` of ``-1`` marks a junk
    image, which is dropped. Rows without a filename, with a missing or
    non-integer ``pid`` / ``camid`` or a camid below ``camid_base``, and
    repeated filenames go into the bad-data report (``bad_name``,
    ``missing_id``, ``duplicate``), each named by file and line; the
    dataset's ``bad_data`` decides whether they stop the build.

    Camera numbering: the files store cameras as they were numbered at the
    source, possibly from 1. Every camid is mapped by the same fixed rule,
    ``camid = raw_camid - camid_base``, for every file of the dataset, so a
    camera keeps its index in train, query and gallery whatever cameras a
    particular file happens to contain. A raw camid below ``camid_base`` is
    an error. (The CUHK03 development splits in ``../shared/data/cuhk03``
    number their cameras from 1: use ``camid_base=1``.)

    Example::

        dict(type='ReIDAnnotationDataset',
             data_root='../shared/data/cuhk03',
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
        # utf-8-sig: files saved by spreadsheets start with a BOM.
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.DictReader(f)
            self._check_header(reader.fieldnames, path, split)
            samples, first_line = [], {}
            for row in reader:
                sample = self._parse_row(row, path, reader.line_num,
                                         first_line)
                if sample is not None:
                    samples.append(sample)
        return samples

    def _check_header(self, fieldnames, path: str, split: str) -> None:
        header = [name.strip() for name in fieldnames or []]
        missing = [c for c in self.COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f'{self.dataset_name}: {path} lacks the column(s) '
                f'{", ".join(missing)} (header: {",".join(header)!r}); '
                f'expected {self.describe_split(split)}')

    def _parse_row(self, row: dict, path: str, line: int,
                   first_line: Dict[str, int]) -> Optional[dict]:
        """Parse one row; a bad one is reported (by file and line) and gives
        None."""
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
        if filename in first_line:
            self.report_bad_entry(
                'duplicate', where, f'duplicate entry {filename!r} (first on '
                f'line {first_line[filename]})')
            return None
        first_line[filename] = line
        values = {}
        for key in ('pid', 'camid'):
            try:
                values[key] = int(row[key])
            except ValueError:
                problem = (f'{key} {row[key]!r} is not an integer'
                           if row[key] else f'{key} is missing')
                self.report_bad_entry('missing_id', where, problem)
                return None
        if values['camid'] < self.camid_base:
            self.report_bad_entry(
                'missing_id', where, f'camid {values["camid"]} is below '
                f'camid_base={self.camid_base}')
            return None
        return dict(
            img_path=self._under_root(self.data_root, filename),
            pid=values['pid'],
            camid=values['camid'] - self.camid_base)
