"""PseudoPairLabeler: the similarity-separation rule on constructed curves,
reciprocal filtering, the gradient reading, the camera penalty."""
import math

import pytest
import torch

from mmreid_unsup.pseudo_labels import PseudoPairLabeler, separation_index
from mmreid_unsup.registry import KNN_BACKENDS, PSEUDO_LABELERS


def test_separation_index_is_the_largest_drop():
    curve = torch.tensor([
        [0.9, 0.88, 0.86, 0.5, 0.45],  # drop after 3
        [0.9, 0.2, 0.19, 0.18, 0.1],  # drop after 1
        [1.0, 0.75, 0.5, 0.25, 0.0],  # equal drops: the first one
        [0.5, 0.49, 0.48, 0.47, 0.0],  # drop after 4 (the last gap)
    ])
    assert separation_index(curve).tolist() == [3, 1, 1, 4]
    with pytest.raises(ValueError, match='K >= 2'):
        separation_index(torch.ones(3, 1))


#: Pairwise similarities the ``'lookup'`` kNN backend answers with.
SIMS = {}


@KNN_BACKENDS.register_module(name='lookup', force=True)
def _lookup_knn(features: torch.Tensor, k: int):
    """kNN over the hand-written ``SIMS['current']``: sample ``i`` is the
    one-hot row ``i`` of ``features``, so any similarity matrix can be
    tested, Gram matrix or not."""
    sims = SIMS['current'][features.argmax(dim=1)].clone()
    sims.fill_diagonal_(2.0)  # the query first
    values, indices = sims.topk(k, dim=1)
    values[:, 0] = 1.0
    return 2 - 2 * values, indices


def _features_with_sims(sims: torch.Tensor) -> torch.Tensor:
    """One-hot features whose kNN (``knn_backend='lookup'``) sees ``sims``."""
    SIMS['current'] = sims
    return torch.eye(sims.size(0))


def _block_sims() -> torch.Tensor:
    """Two groups: {0, 1, 2} at 0.9, {3, 4, 5, 6} at 0.8, 0.1 across."""
    sims = torch.full((7, 7), 0.1)
    sims[:3, :3] = 0.9
    sims[3:, 3:] = 0.8
    sims.fill_diagonal_(1.0)
    return sims


def test_partners_are_the_images_before_the_drop():
    labeler = PseudoPairLabeler(max_partners=4, search_depth=5,
                                knn_backend='lookup')
    partners = labeler(_features_with_sims(_block_sims()))
    assert partners.shape == (7, 4) and partners.dtype == torch.long
    for i in range(3):
        assert sorted(p for p in partners[i].tolist() if p >= 0) == [
            j for j in range(3) if j != i
        ]
    for i in range(3, 7):
        assert sorted(p for p in partners[i].tolist() if p >= 0) == [
            j for j in range(3, 7) if j != i
        ]
    # -1 padding on the right.
    assert partners[0].tolist()[2:] == [-1, -1]
    assert labeler.last_stats['num_pairs'] == 3 * 2 + 4 * 3


def test_max_partners_and_min_similarity():
    feats = _features_with_sims(_block_sims())
    capped = PseudoPairLabeler(max_partners=1, search_depth=5,
                               reciprocal=False, knn_backend='lookup')(feats)
    assert capped.shape == (7, 1) and (capped >= 0).all()
    strict = PseudoPairLabeler(max_partners=4, search_depth=5,
                               min_similarity=0.85,
                               knn_backend='lookup')(feats)
    assert (strict[:3] >= 0).sum() == 6  # the 0.9 group keeps its pairs
    assert (strict[3:] == -1).all()  # the 0.8 group loses them


def test_reciprocal_filter_keeps_mutual_pairs_only():
    # 0's sorted curve: 1 (0.9), 2 (0.85), then a drop: partners {1, 2}.
    # 2's curve: 3 (0.95), then drops of 0.1 (0), 0.05 (1), 0.05 (4):
    # partners {3}. So (0, 2) is one-sided.
    sims = torch.tensor([
        [1.00, 0.90, 0.85, 0.30, 0.20],
        [0.90, 1.00, 0.80, 0.30, 0.20],
        [0.85, 0.80, 1.00, 0.95, 0.75],
        [0.30, 0.30, 0.95, 1.00, 0.10],
        [0.20, 0.20, 0.75, 0.10, 1.00],
    ])
    feats = _features_with_sims(sims)
    one_sided = PseudoPairLabeler(
        max_partners=3, search_depth=4, reciprocal=False,
        knn_backend='lookup')(feats)
    mutual = PseudoPairLabeler(
        max_partners=3, search_depth=4, reciprocal=True,
        knn_backend='lookup')(feats)
    assert set(one_sided[0].tolist()) - {-1} == {1, 2}
    assert set(mutual[0].tolist()) - {-1} == {1}
    assert set(mutual[2].tolist()) - {-1} == {3}
    for i in range(5):
        for j in mutual[i].tolist():
            if j >= 0:
                assert i in mutual[j].tolist()


def test_gradient_curve_cuts_among_the_closest():
    # Similarities 0.95, 0.90, 0.70, ...: on the similarity curve the largest
    # drop is after 2; the softmax-gradient curve exp((s - s1) / 0.05) drops
    # most after 1 (1 - e^-1 = 0.63 > e^-1 - e^-5 = 0.36).
    s = [0.95, 0.90, 0.70, 0.65, 0.60]
    sims = torch.eye(6)
    for j, value in enumerate(s, start=1):
        sims[0, j] = sims[j, 0] = value
    sims[1:, 1:] += 0.2 * (1 - torch.eye(5))
    feats = _features_with_sims(sims)
    kwargs = dict(max_partners=4, search_depth=5, reciprocal=False,
                  knn_backend='lookup')
    by_sim = PseudoPairLabeler(curve='similarity', **kwargs)(feats)
    by_grad = PseudoPairLabeler(curve='gradient', temperature=0.05,
                                **kwargs)(feats)
    assert set(by_sim[0].tolist()) - {-1} == {1, 2}
    assert set(by_grad[0].tolist()) - {-1} == {1}
    assert math.isclose(1 - math.exp(-1), 0.632, abs_tol=1e-3)


def test_camera_penalty_prefers_other_cameras():
    # 0's neighbours: 1 (0.9, same camera), 2 (0.85, other camera), 3 and 4
    # far. Without penalty 1 comes first; with 0.1, 2 does.
    sims = torch.tensor([
        [1.00, 0.90, 0.85, 0.20, 0.10],
        [0.90, 1.00, 0.80, 0.20, 0.10],
        [0.85, 0.80, 1.00, 0.20, 0.10],
        [0.20, 0.20, 0.20, 1.00, 0.10],
        [0.10, 0.10, 0.10, 0.10, 1.00],
    ])
    feats = _features_with_sims(sims)
    camids = torch.tensor([0, 0, 1, 1, 1])
    kwargs = dict(max_partners=1, search_depth=4, reciprocal=False,
                  knn_backend='lookup')
    assert PseudoPairLabeler(**kwargs)(feats, camids)[0].item() == 1
    penalised = PseudoPairLabeler(camera_penalty=0.1, **kwargs)(feats, camids)
    assert penalised[0].item() == 2
    with pytest.raises(ValueError, match='camids'):
        PseudoPairLabeler(camera_penalty=0.1, **kwargs)(feats)


def test_cross_camera_cuts_the_curve_of_other_cameras_only():
    # 0's curve: 1, 2 (same camera, 0.95, 0.94), then 3, 4, 5 (other
    # camera, 0.80, 0.78, 0.70). All of it drops most after 1 and 2; its
    # other-camera part after 3 and 4.
    sims = torch.full((6, 6), 0.1)
    sims.fill_diagonal_(1.0)
    for j, s in zip((1, 2, 3, 4, 5), (0.95, 0.94, 0.80, 0.78, 0.70)):
        sims[0, j] = sims[j, 0] = s
    feats = _features_with_sims(sims)
    camids = torch.tensor([0, 0, 0, 1, 1, 1])
    kwargs = dict(max_partners=3, search_depth=5, reciprocal=False,
                  knn_backend='lookup')
    assert set(PseudoPairLabeler(**kwargs)(feats, camids)[0].tolist()) == {
        1, 2, -1}
    crossed = PseudoPairLabeler(cross_camera=True, **kwargs)(feats, camids)
    assert crossed[0].tolist() == [3, 4, -1]
    # 3's other-camera neighbours: only 0; its curve is flat behind it.
    assert crossed[3].tolist() == [0, -1, -1]
    with pytest.raises(ValueError, match='camids'):
        PseudoPairLabeler(cross_camera=True, **kwargs)(feats)
    # One camera only: no partner at all, not a same-camera one.
    alone = PseudoPairLabeler(cross_camera=True, **kwargs)(
        feats, torch.zeros(6, dtype=torch.long))
    assert (alone == -1).all()


def test_registered_and_validated():
    labeler = PSEUDO_LABELERS.build(
        dict(type='PseudoPairLabeler', max_partners=2))
    assert labeler.label_width == 2
    for bad in (dict(max_partners=0), dict(search_depth=1),
                dict(curve='slope'), dict(temperature=0.0)):
        with pytest.raises(ValueError):
            PseudoPairLabeler(**bad)
    with pytest.raises(ValueError, match='features'):
        labeler(torch.zeros(3))


def test_tiny_sets_give_no_partners():
    partners = PseudoPairLabeler(max_partners=2)(torch.randn(2, 4))
    assert partners.shape == (2, 2) and (partners == -1).all()
