"""CUHK03 under the new protocol (CUHK03-NP)."""
import os.path as osp
import re

from mmreid_unsup.registry import DATASETS
from .folder_reid_dataset import FolderReIDDataset


@DATASETS.register_module()
class CUHK03NP(FolderReIDDataset):
    """CUHK03-NP (Li et al., CVPR 2014; split of Zhong et al., CVPR 2017).

    Layout::

        data_root/
            detected/{bounding_box_train,query,bounding_box_test}/*.png
            labeled/{bounding_box_train,query,bounding_box_test}/*.png

    File names are ``PPPP_cC_NN.png``: identity, camera of the pair
    (1 or 2; stored 0-based) and image index.

    Args:
        data_root (str): The dataset's root folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        subset (str): ``'detected'`` (detector boxes) or ``'labeled'``
            (hand-drawn boxes). Defaults to ``'detected'``.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='CUHK03NP')
    SUBSETS = ('detected', 'labeled')
    NAME_PATTERN = re.compile(r'(?P<pid>-1|\d+)_c(?P<cam>\d+)_\d+\.png')
    NAME_EXAMPLE = '0001_c1_01.png'

    def __init__(self, *args, subset: str = 'detected', **kwargs) -> None:
        if subset not in self.SUBSETS:
            raise ValueError(f'CUHK03NP: subset must be one of '
                             f'{self.SUBSETS}, got {subset!r}')
        self.subset = subset
        super().__init__(*args, **kwargs)
        self._metainfo.setdefault('subset', subset)

    def split_root(self) -> str:
        return osp.join(self.data_root, self.subset)
