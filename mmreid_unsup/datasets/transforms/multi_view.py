"""Several augmented views of one image in the same batch."""
import copy
from typing import Callable, List, Sequence, Union

from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from mmreid_unsup.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiView(BaseTransform):
    """Run several pipelines on copies of one sample: one view each.

    mmpretrain's ``MultiView`` idea for re-ID. Each entry of ``views`` is a
    pipeline that ends with ``PackReIDInputs``; view ``v`` runs it on its
    own deep copy of ``results`` (so each draws its own random
    augmentation). The output holds the packed views as lists::

        dict(inputs=[view_0, view_1, ...], data_samples=[ds_0, ds_1, ...])

    Every data sample keeps the sample's metainfo (``sample_idx``, ``pid``,
    ...), with ``view`` (its index) added. MMEngine's ``pseudo_collate``
    turns a batch of such samples into one list per view, and
    ``ReIDDataPreprocessor`` flattens them into one batch (view 0 of every
    sample, then view 1, ...), so any model sees ``V x B`` images whose data
    samples tell which image and which view each is. PAUL's pseudo pairs
    (an image and its colour-jittered, rotated, cropped copy) are two views.

    Use it in training pipelines only: the feature extraction and
    evaluation loaders expect one image per sample.

    Args:
        views (Sequence[Sequence[dict | Callable]]): One pipeline per view,
            each ending with ``PackReIDInputs``.
    """

    def __init__(self, views: Sequence[Sequence[Union[dict,
                                                      Callable]]]) -> None:
        if isinstance(views, dict) or len(views) < 1 or any(
                isinstance(v, dict) for v in views):
            raise ValueError(
                'MultiView: views must be a list of pipelines (each a list '
                f'of transform configs), got {views!r}')
        self.pipelines: List[Compose] = [
            Compose([
                TRANSFORMS.build(t) if isinstance(t, dict) else t
                for t in view
            ]) for view in views
        ]

    @property
    def num_views(self) -> int:
        """Number of views per sample."""
        return len(self.pipelines)

    def transform(self, results: dict) -> dict:
        """Make the views of ``results``.

        Args:
            results (dict): The pipeline's data (e.g. after
                ``LoadImageFromFile``).

        Returns:
            dict: ``inputs`` (list of ``V`` tensors) and ``data_samples``
            (list of ``V`` data samples).
        """
        inputs, data_samples = [], []
        for view, pipeline in enumerate(self.pipelines):
            packed = pipeline(copy.deepcopy(results))
            if not (isinstance(packed, dict) and 'inputs' in packed
                    and 'data_samples' in packed):
                raise TypeError(
                    f'MultiView: view {view} must end with PackReIDInputs '
                    '(a dict with inputs and data_samples), got '
                    f'{type(packed).__name__}')
            packed['data_samples'].set_metainfo(dict(view=view))
            inputs.append(packed['inputs'])
            data_samples.append(packed['data_samples'])
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self) -> str:
        views = ', '.join(repr(p) for p in self.pipelines)
        return f'{type(self).__name__}(views=[{views}])'
