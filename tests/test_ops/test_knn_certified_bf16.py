"""Certified bfloat16 kNN: the float32 answer, also where bfloat16 is blind."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.ops import bf16_knn, knn_certified_bf16, torch_knn
from mmreid_unsup.ops.knn_certified_bf16 import (bf16_rounding_bound,
                                                 fast_bfloat16_matmul)

from knn_reference import brute_force, random_features


def clustered_features(num_ids: int, per_id: int, dim: int,
                       spread: float) -> torch.Tensor:
    """Tight groups: similarities inside a group differ by less than the
    bfloat16 resolution (about 0.004 near 1)."""
    gen = torch.Generator().manual_seed(1)
    centres = F.normalize(torch.randn(num_ids, dim, generator=gen), dim=1)
    noise = torch.randn(num_ids * per_id, dim, generator=gen)
    feats = centres.repeat_interleave(per_id, 0) + spread * noise
    return F.normalize(feats, dim=1)


def count_exhaustive_rows(monkeypatch) -> list:
    seen = []
    original = knn_certified_bf16._exhaustive_rows

    def spy(features, low, rows, *args):
        seen.append(rows.numel())
        return original(features, low, rows, *args)

    monkeypatch.setattr(knn_certified_bf16, '_exhaustive_rows', spy)
    return seen


@pytest.mark.parametrize('margin', [0, 3, 32])
@pytest.mark.parametrize('block', [7, 64, 4096])
def test_matches_float64_brute_force(margin, block):
    feats = random_features(150, 24, seed=margin + block)
    dists, indices = bf16_knn(feats, 10, margin=margin, chunk_size=block)
    ref_dists, ref_indices = brute_force(feats, 10)
    assert torch.equal(indices, ref_indices)
    torch.testing.assert_close(dists.double(), ref_dists, atol=1e-5, rtol=0)
    assert dists.dtype == torch.float32 and indices.dtype == torch.int64


def test_rows_bfloat16_cannot_order_are_searched_exhaustively(monkeypatch):
    # Groups of 12 with neighbour similarities ~0.9999 apart by ~1e-5:
    # bfloat16 rounds them to the same few values, so its top 8 is a coin
    # toss; without spare candidates no row can be certified.
    feats = clustered_features(10, 12, 64, spread=0.01)
    low = feats.bfloat16()
    in_group = (low[:12] @ low[:12].t()).fill_diagonal_(0)
    assert in_group.unique().numel() <= 4  # 0 and a few values near 1
    seen = count_exhaustive_rows(monkeypatch)
    _, indices = bf16_knn(feats, 8, margin=0)
    assert sum(seen) == feats.size(0)
    assert torch.equal(indices, brute_force(feats, 8)[1])


def test_spare_candidates_certify_rows(monkeypatch):
    # Well separated groups of 12: the 8 nearest lie inside the group, the
    # candidates' 13th-16th are far away, so every row is certified.
    feats = clustered_features(10, 12, 64, spread=0.3)
    seen = count_exhaustive_rows(monkeypatch)
    _, indices = bf16_knn(feats, 8, margin=8)
    assert seen == []
    assert torch.equal(indices, brute_force(feats, 8)[1])


def test_same_answer_as_the_float32_search_on_structured_features():
    feats = clustered_features(40, 15, 256, spread=0.08)
    dists, indices = bf16_knn(feats, 20, chunk_size=128)
    ref_dists, ref_indices = torch_knn(feats, 20)
    assert torch.equal(indices, ref_indices)
    torch.testing.assert_close(dists, ref_dists, atol=1e-6, rtol=0)


@pytest.mark.parametrize('scale', [1.0, 1e-3])
def test_rounding_bound_holds(scale):
    # Spiky features (a few large components) are the hard case for the
    # bound's Cauchy-Schwarz step; the bound must hold for every pair.
    gen = torch.Generator().manual_seed(2)
    feats = torch.randn(300, 128, generator=gen)
    feats[:, :4] *= 30
    feats = F.normalize(feats, dim=1) * scale
    low = feats.bfloat16()
    bounds = bf16_rounding_bound(feats, low)
    approx = (low @ low.t()).double()
    exact = feats.double() @ feats.double().t()
    half_ulp = torch.where(approx.abs() < 1, 2.0**-9, 2.0**-8)
    error = (approx - exact).abs()
    assert (error <= bounds[:, None].double() + half_ulp).all()
    # ... and is not vacuous: about the size of the observed error.
    assert bounds.max() < 0.01 * scale**2 + 1e-3


def test_k_equal_to_n_and_bad_arguments():
    feats = random_features(6, 4)
    _, indices = bf16_knn(feats, 6)
    assert (indices.sort(dim=1).values == torch.arange(6)).all()
    with pytest.raises(ValueError, match='margin'):
        bf16_knn(feats, 3, margin=-1)
    with pytest.raises(ValueError, match='chunk_size'):
        bf16_knn(feats, 3, chunk_size=0)
    with pytest.raises(ValueError, match='k=7 .* N=6'):
        bf16_knn(feats, 7)


def test_fast_bfloat16_matmul_only_on_a_cpu_with_onednn(monkeypatch):
    assert fast_bfloat16_matmul(torch.device('meta')) is False
    assert fast_bfloat16_matmul(torch.device('cuda', 0)) is False
    assert isinstance(fast_bfloat16_matmul(torch.device('cpu')), bool)
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: False)
    assert fast_bfloat16_matmul(torch.device('cpu')) is False
