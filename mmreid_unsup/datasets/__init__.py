"""Datasets, transforms, samplers and the synthetic data generator."""
from .bad_data_report import BadDataError, BadDataReport, BrokenImageError
from .base_reid_dataset import BaseReIDDataset
from .camera_folder_dataset import UNKNOWN_PID, CameraFolderDataset
from .concat_reid_dataset import ConcatReIDDataset
from .cuhk03np import CUHK03NP
from .dukemtmc_reid import DukeMTMCReID
from .fingerprint import dataset_fingerprint, describe_change
from .folder_reid_dataset import FolderReIDDataset
from .market1501 import Market1501
from .msmt17 import MSMT17
from .reid_annotation_dataset import ReIDAnnotationDataset
from .samplers import *  # noqa: F401,F403
from .synthetic_reid import SyntheticReID
from .transforms import *  # noqa: F401,F403

__all__ = [
    'BaseReIDDataset', 'FolderReIDDataset', 'Market1501', 'DukeMTMCReID',
    'CUHK03NP', 'MSMT17', 'ReIDAnnotationDataset', 'SyntheticReID',
    'ConcatReIDDataset', 'BadDataReport', 'BadDataError', 'BrokenImageError',
    'dataset_fingerprint', 'describe_change', 'CameraFolderDataset',
    'UNKNOWN_PID'
]
