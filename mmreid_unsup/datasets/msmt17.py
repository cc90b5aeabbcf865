"""MSMT17."""
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmreid_unsup.registry import DATASETS
from .base_reid_dataset import BaseReIDDataset


@DATASETS.register_module()
class MSMT17(BaseReIDDataset):
    """MSMT17 (Wei et al., CVPR 2018), versions V1 and V2.

    Layout (V2 renames the image folders to ``mask_train_v2`` and
    ``mask_test_v2``; the lists keep their names)::

        data_root/
            train/0000/0000_000_01_0303morning_0015_0.jpg ...
            test/0000/0000_000_01_0303morning_0036_0.jpg ...
            list_train.txt  list_val.txt      # paths relative to train/
            list_query.txt  list_gallery.txt  # paths relative to test/

    Each list line is ``relative/path.jpg pid``. The camera is the third
    field of the file name, ``PPPP_NNN_CC_...`` (identity, index, camera
    1..15; stored 0-based), as in the official release.

    Args:
        data_root (str): The dataset's root folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        version (str, optional): ``'V1'`` or ``'V2'``; None detects it from
            the image folders present. Defaults to None.
        use_val_in_train (bool): Train on ``list_train.txt`` and
            ``list_val.txt`` together (the usual protocol) rather than on
            ``list_train.txt`` alone. Defaults to True.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='MSMT17')
    IMAGE_DIRS = dict(
        V1=('train', 'test'), V2=('mask_train_v2', 'mask_test_v2'))
    NAME_PATTERN = re.compile(r'(?P<pid>\d+)_\d+_(?P<cam>\d+)_[^/]*\.jpg')
    NAME_EXAMPLE = '0000_000_01_0303morning_0015_0.jpg'

    def __init__(self,
                 *args,
                 version: Optional[str] = None,
                 use_val_in_train: bool = True,
                 **kwargs) -> None:
        if version not in (None, 'V1', 'V2'):
            raise ValueError(
                f"MSMT17: version must be 'V1', 'V2' or None, got {version!r}")
        self._version = version
        self.use_val_in_train = use_val_in_train
        super().__init__(*args, **kwargs)

    @property
    def version(self) -> str:
        """str: ``'V1'`` or ``'V2'``, detected from the image folders when
        not given."""
        version = self._version or self._detect_version()
        if version is None:
            raise FileNotFoundError(
                f'MSMT17: neither {osp.join(self.data_root, "train")} (V1) '
                f'nor {osp.join(self.data_root, "mask_train_v2")} (V2) '
                f'exists; expected {self.describe_split("train")}')
        return version

    def _detect_version(self) -> Optional[str]:
        for version, (train_dir, test_dir) in self.IMAGE_DIRS.items():
            if osp.isdir(osp.join(self.data_root, train_dir)) or osp.isdir(
                    osp.join(self.data_root, test_dir)):
                return version
        return None

    def _lists(self, split: str) -> Tuple[str, List[str]]:
        """The image folder and the list files of a split."""
        train_dir, test_dir = self.IMAGE_DIRS[self.version]
        if split == 'train':
            lists = ['list_train.txt']
            if self.use_val_in_train:
                lists.append('list_val.txt')
            return train_dir, lists
        return test_dir, [f'list_{split}.txt']

    def describe_split(self, split: str) -> str:
        version = self._version or self._detect_version() or 'V1'
        train_dir, test_dir = self.IMAGE_DIRS[version]
        if split == 'train':
            image_dir = train_dir
            lists = 'list_train.txt' + (
                ' and list_val.txt' if self.use_val_in_train else '')
        else:
            image_dir, lists = test_dir, f'list_{split}.txt'
        return (f'images under {osp.join(self.data_root, image_dir)}/ listed '
                f'in {lists} in {self.data_root}, one "relative/path.jpg pid" '
                f'per line, named like {self.NAME_EXAMPLE} (MSMT17_{version})')

    def load_split(self, split: str) -> List[dict]:
        image_dir, lists = self._lists(split)
        image_dir = osp.join(self.data_root, image_dir)
        if not osp.isdir(image_dir):
            raise FileNotFoundError(
                f'MSMT17: folder {image_dir} does not exist; expected '
                f'{self.describe_split(split)}')
        samples = []
        for list_name in lists:
            samples += self._read_list(
                osp.join(self.data_root, list_name), image_dir, split)
        return samples

    def _read_list(self, list_file: str, image_dir: str,
                   split: str) -> List[dict]:
        """Parse one list file; a line that cannot be parsed is reported
        (``bad_name`` or ``missing_id``) by file and line."""
        if not osp.isfile(list_file):
            raise FileNotFoundError(
                f'MSMT17: list file {list_file} does not exist; expected '
                f'{self.describe_split(split)}')
        samples = []
        with open(list_file) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                fields = line.split()
                where = f'{list_file}, line {line_no}'
                match = self.NAME_PATTERN.fullmatch(osp.basename(fields[0]))
                if match is None or int(match['cam']) < 1:
                    self.report_bad_entry(
                        'bad_name', where, f'cannot parse {line.strip()!r}; '
                        f'expected a name like {self.NAME_EXAMPLE}')
                    continue
                if len(fields) != 2 or not re.fullmatch(r'-?\d+', fields[1]):
                    self.report_bad_entry(
                        'missing_id', where,
                        f'cannot parse {line.strip()!r}; expected '
                        '"relative/path.jpg pid"')
                    continue
                samples.append(
                    dict(
                        img_path=osp.join(image_dir, fields[0]),
                        pid=int(fields[1]),
                        camid=int(match['cam']) - 1))
        return samples
