"""Your own unlabeled crops: one folder per camera."""
import os
import os.path as osp
from typing import List

from mmreid_unsup.registry import DATASETS
from .base_reid_dataset import BaseReIDDataset

#: The ``pid`` of a crop whose identity nobody knows. It is not junk
#: (``-1``, dropped): the crop is trained on, and code that needs true
#: identities (pseudo-label ARI, held-out validation) finds none.
UNKNOWN_PID = -2


@DATASETS.register_module()
class CameraFolderDataset(BaseReIDDataset):
    """Unlabeled pedestrian crops, sorted into one folder per camera.

    The layout a user of the toolbox has after running a detector on the
    videos of their own cameras::

        data_root/
            entrance/            # one folder per camera, any names
                0001.jpg
                2026-12-01/0002.png   # sub-folders are read too
            platform_2/
                ...

    Every image under a camera folder (``.jpg``, ``.jpeg``, ``.png``,
    ``.bmp``, any case, at any depth) is one training sample of that
    camera: ``camid`` is the folder's index among the camera folders in
    sorted order (kept in ``metainfo['camera_names']``), and ``pid`` is
    :data:`UNKNOWN_PID`. Other files are ignored; hidden folders (``.x``)
    are not cameras. An image directly in ``data_root`` has no camera: it is
    a ``bad_name`` entry of the bad-data report (see
    :class:`BaseReIDDataset`'s ``bad_data``).

    Only ``split='train'`` exists: evaluation needs identities (a labelled
    query / gallery, e.g. :class:`ReIDAnnotationDataset`).

    Example::

        train_dataloader = dict(
            dataset=dict(type='CameraFolderDataset',
                         data_root='data/my_cameras'))

    Args:
        data_root (str): The folder holding the camera folders.
        split (str): ``'train'`` only. Defaults to ``'train'``.
        **kwargs: See :class:`BaseReIDDataset` (``num_holdout_ids`` must
            stay 0: there are no identities to hold out).
    """

    METAINFO = dict(dataset_name='CameraFolderDataset')
    IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 **kwargs) -> None:
        if split != 'train':
            raise ValueError(
                f"CameraFolderDataset: split must be 'train', got {split!r}; "
                'its crops have no identities, and evaluation needs a '
                'labelled query / gallery (e.g. ReIDAnnotationDataset)')
        if kwargs.get('num_holdout_ids'):
            raise ValueError(
                'CameraFolderDataset: num_holdout_ids must be 0, got '
                f"{kwargs['num_holdout_ids']!r}; unlabeled crops have no "
                'identities to hold out')
        super().__init__(data_root=data_root, split=split, **kwargs)

    def describe_split(self, split: str) -> str:
        return (f'{self.data_root}/<camera>/**/*.jpg|png: one folder per '
                'camera, holding its crops')

    def load_split(self, split: str) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'CameraFolderDataset: folder {root} does not exist; '
                f'expected {self.describe_split(split)}')
        cameras, loose = [], []
        for name in sorted(os.listdir(root)):
            path = osp.join(root, name)
            if osp.isdir(path) and not name.startswith('.'):
                cameras.append(name)
            elif self._is_image(name):
                loose.append(path)
        if not cameras:
            raise FileNotFoundError(
                f'CameraFolderDataset: no camera folder in {root}'
                f'{" (only loose images)" if loose else ""}; expected '
                f'{self.describe_split(split)}')
        for path in loose:
            self.report_bad_entry(
                'bad_name', path, 'an image outside the camera folders has '
                f'no camera; move it into one of {cameras}')
        self._metainfo['camera_names'] = cameras
        samples = []
        for camid, camera in enumerate(cameras):
            for path in self._images_under(osp.join(root, camera)):
                samples.append(
                    dict(img_path=path, pid=UNKNOWN_PID, camid=camid))
        return samples

    def _is_image(self, name: str) -> bool:
        return name.lower().endswith(self.IMAGE_EXTENSIONS)

    def _images_under(self, folder: str) -> List[str]:
        """Every image below ``folder``, in sorted path order."""
        found = []
        for parent, dirs, files in os.walk(folder, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
            found += [
                osp.join(parent, f) for f in sorted(files)
                if self._is_image(f)
            ]
        return found
