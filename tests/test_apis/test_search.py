"""search_gallery: exact top-k with faiss and with torch."""
import pytest
import torch

from mmreid_unsup.apis import search_gallery
from mmreid_unsup.ops import is_faiss_available


def brute_force(queries, gallery, topk):
    q = torch.nn.functional.normalize(queries, dim=1)
    g = torch.nn.functional.normalize(gallery, dim=1)
    dist = torch.cdist(q.double(), g.double())**2
    order = torch.sort(dist, dim=1, stable=True).indices[:, :topk]
    return dist.gather(1, order).float(), order


BACKENDS = ['torch'] + (['faiss'] if is_faiss_available() else [])


@pytest.mark.parametrize('backend', BACKENDS + ['auto'])
def test_matches_brute_force(backend):
    gen = torch.Generator().manual_seed(0)
    queries = torch.randn(7, 16, generator=gen)
    gallery = torch.randn(300, 16, generator=gen)
    dists, indices = search_gallery(queries, gallery, topk=5, backend=backend)
    expected_d, expected_i = brute_force(queries, gallery, 5)
    assert indices.dtype == torch.int64 and indices.shape == (7, 5)
    assert torch.equal(indices, expected_i)
    torch.testing.assert_close(dists, expected_d, atol=1e-5, rtol=0)
    assert (dists[:, 1:] >= dists[:, :-1]).all()


def test_single_query_vector_and_itself_first():
    gen = torch.Generator().manual_seed(1)
    gallery = torch.randn(20, 8, generator=gen)
    dists, indices = search_gallery(3 * gallery[4], gallery, topk=3)
    assert indices[0, 0] == 4 and dists[0, 0] < 1e-5


def test_errors():
    gallery = torch.randn(4, 3)
    with pytest.raises(ValueError, match='topk'):
        search_gallery(gallery[:1], gallery, topk=5)
    with pytest.raises(ValueError, match=r'\(Q, D\)'):
        search_gallery(torch.randn(1, 2), gallery)
    with pytest.raises(ValueError, match='backend'):
        search_gallery(gallery[:1], gallery, topk=1, backend='annoy')
