"""DukeMTMC-reID."""
import re

from mmreid_unsup.registry import DATASETS
from .folder_reid_dataset import FolderReIDDataset


@DATASETS.register_module()
class DukeMTMCReID(FolderReIDDataset):
    """DukeMTMC-reID (Zheng et al., ICCV 2017).

    The folders of Market-1501 (``bounding_box_train``, ``query``,
    ``bounding_box_test``); file names are ``PPPP_cC_fFFFFFFF.jpg``:
    identity, camera (1-based; stored 0-based) and frame.

    Args:
        data_root (str): The dataset's root folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    METAINFO = dict(dataset_name='DukeMTMCReID')
    NAME_PATTERN = re.compile(r'(?P<pid>-1|\d+)_c(?P<cam>\d+)_f\d+\.jpg')
    NAME_EXAMPLE = '0001_c2_f0046182.jpg'
