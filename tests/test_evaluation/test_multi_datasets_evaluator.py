"""MultiDatasetsEvaluator + ConcatReIDDataset: each set ranked on its own."""
from typing import List

import pytest
import torch
from mmengine.evaluator import Evaluator

from mmreid_unsup.datasets import BaseReIDDataset, ConcatReIDDataset
from mmreid_unsup.evaluation import MultiDatasetsEvaluator, ReIDMetric
from mmreid_unsup.registry import EVALUATOR
from mmreid_unsup.structures import ReIDDataSample


class ToyTestSet(BaseReIDDataset):
    """``num_ids`` identities, a query on camera 0 and two gallery images on
    cameras 1 and 2 each."""

    def __init__(self, name: str, num_ids: int, **kwargs):
        self.name, self.num_ids_ = name, num_ids
        super().__init__(split='test', metainfo=dict(dataset_name=name),
                         image_check='none', **kwargs)  # no files

    def describe_split(self, split: str) -> str:
        return f'/{self.name}/{split}'

    def load_split(self, split: str) -> List[dict]:
        cams = [0] if split == 'query' else [1, 2]
        return [
            dict(img_path=f'/{self.name}/{split}/{pid}_{cam}.jpg', pid=pid,
                 camid=cam) for pid in range(self.num_ids_) for cam in cams
        ]


def samples_of(dataset, gen):
    samples = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        sample = ReIDDataSample(
            metainfo=dict(
                pid=info['pid'], camid=info['camid'],
                is_query=info['is_query']))
        # Identity centre plus noise: far from chance, not perfect.
        centre = torch.nn.functional.one_hot(
            torch.tensor(info['pid']), 16).float()
        sample.feat = centre + 0.6 * torch.randn(16, generator=gen)
        samples.append(sample)
    return samples


def test_each_set_is_ranked_against_its_own_gallery():
    first, second = ToyTestSet('alpha', 5), ToyTestSet('beta', 7)
    concat = ConcatReIDDataset([first, second])
    meta = concat.metainfo
    assert meta['dataset_names'] == ['alpha', 'beta']
    assert meta['cumulative_sizes'] == [15, 36]

    gen = torch.Generator().manual_seed(0)
    parts = [samples_of(first, gen), samples_of(second, gen)]
    evaluator = EVALUATOR.build(
        dict(type='MultiDatasetsEvaluator', metrics=dict(type='ReIDMetric')))
    assert isinstance(evaluator, MultiDatasetsEvaluator)
    evaluator.dataset_meta = meta
    everything = parts[0] + parts[1]
    for start in range(0, len(everything), 4):
        evaluator.process(data_samples=everything[start:start + 4])
    scores = evaluator.evaluate(len(concat))

    expected = {}
    for name, samples in zip(('alpha', 'beta'), parts):
        single = Evaluator(ReIDMetric())
        single.process(data_samples=samples)
        for key, value in single.evaluate(len(samples)).items():
            expected[f'{name}/{key}'] = value
    assert scores == expected
    # Ranking the two sets together gives other numbers (alpha's pid 0
    # would match beta's pid 0).
    together = Evaluator(ReIDMetric())
    together.process(data_samples=everything)
    assert together.evaluate(len(everything))['reid/mAP'] not in (
        scores['alpha/reid/mAP'], scores['beta/reid/mAP'])


def test_names_and_errors():
    concat = ConcatReIDDataset(
        [ToyTestSet('alpha', 2), ToyTestSet('alpha', 3)])
    assert concat.metainfo['dataset_names'] == ['alpha', 'alpha_2']
    with pytest.raises(ValueError, match='distinct'):
        ConcatReIDDataset([ToyTestSet('a', 2), ToyTestSet('b', 2)],
                          names=['x', 'x'])
    evaluator = MultiDatasetsEvaluator(ReIDMetric())
    evaluator.dataset_meta = dict(dataset_name='alpha')
    with pytest.raises(ValueError, match='cumulative_sizes'):
        evaluator.evaluate(3)
    evaluator.dataset_meta = concat.metainfo
    with pytest.raises(ValueError, match='15 samples but 5'):
        evaluator.evaluate(5)
