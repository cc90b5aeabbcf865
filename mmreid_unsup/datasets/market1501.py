"""Market-1501."""
import re

from mmreid_unsup.registry import DATASETS
from .folder_reid_dataset import FolderReIDDataset


@DATASETS.register_module()
class Market1501(FolderReIDDataset):
    """Market-1501 (Zheng et al., ICCV 2015).

    Layout::

        data_root/
            bounding_box_train/0002_c1s1_000451_03.jpg ...   # train
            query/0001_c1s1_001051_00.jpg ...                # query
            bounding_box_test/0001_c1s1_000151_01.jpg ...    # gallery

    File names are ``PPPP_cCsS_FFFFFF_NN.jpg``: identity ``PPPP``, camera
    ``C`` (1-based; stored 0-based), sequence ``S``, frame and box index.
    Junk boxes (``pid -1``) are dropped; distractors (``pid 0``) stay in the
    gallery, where no query matches them.

    Args:
        data_root (str): The dataset's root folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='Market1501')
    NAME_PATTERN = re.compile(
        r'(?P<pid>-1|\d+)_c(?P<cam>\d+)s\d+_\d+_\d+\.jpg')
    NAME_EXAMPLE = '0002_c1s1_000451_03.jpg'
