"""Datasets laid out as one folder per split, labels in the file names."""
import os
import os.path as osp
import re
from typing import Dict, List

from .base_reid_dataset import BaseReIDDataset


class FolderReIDDataset(BaseReIDDataset):
    """A re-ID dataset in Market-1501's style: a folder per split and the
    identity and camera encoded in each file name.

    Subclasses set the class attributes:

    - ``SPLIT_DIRS``: the folder of ``'train'``, ``'query'`` and
      ``'gallery'``, relative to :meth:`split_root`.
    - ``NAME_PATTERN``: a regular expression that fully matches a file name,
      with the groups ``pid`` (``-1`` for junk) and ``cam`` (1-based).
    - ``NAME_EXAMPLE``: a valid file name, quoted by error messages.

    Only files ending in the extension of ``NAME_EXAMPLE`` are read, so
    stray files such as ``Thumbs.db`` are ignored; any other file name that
    does not match ``NAME_PATTERN`` is a ``bad_name`` entry of the bad-data
    report (see :class:`BaseReIDDataset`'s ``bad_data``).
    """

    SPLIT_DIRS: Dict[str, str] = dict(
        train='bounding_box_train', query='query', gallery='bounding_box_test')
    NAME_PATTERN: re.Pattern
    NAME_EXAMPLE: str

    def split_root(self) -> str:
        """The folder that holds the split folders.

        Returns:
            str: ``data_root``; subclasses with nested layouts override it.
        """
        return self.data_root

    def split_dir(self, split: str) -> str:
        """The folder of one split.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'``.

        Returns:
            str: The folder's path.
        """
        return osp.join(self.split_root(), self.SPLIT_DIRS[split])

    def describe_split(self, split: str) -> str:
        ext = osp.splitext(self.NAME_EXAMPLE)[1]
        return (f'{self.split_dir(split)}/*{ext} named like '
                f'{self.NAME_EXAMPLE}')

    def load_split(self, split: str) -> List[dict]:
        folder = self.split_dir(split)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{self.dataset_name}: folder {folder} does not exist; '
                f'expected {self.describe_split(split)}')
        ext = osp.splitext(self.NAME_EXAMPLE)[1]
        names = sorted(n for n in os.listdir(folder) if n.endswith(ext))
        samples = []
        for name in names:
            path = osp.join(folder, name)
            match = self.NAME_PATTERN.fullmatch(name)
            if match is None or int(match['cam']) < 1:
                self.report_bad_entry(
                    'bad_name', path, 'cannot parse the file name; expected '
                    f'a name like {self.NAME_EXAMPLE}')
                continue
            samples.append(
                dict(
                    img_path=path,
                    pid=int(match['pid']),
                    camid=int(match['cam']) - 1))
        return samples
