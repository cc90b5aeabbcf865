"""Fixtures of the model zoo tests."""
import pytest

from zoo_test_server import tiny_reid_checkpoint


@pytest.fixture(scope='session')
def reid_bytes(tmp_path_factory) -> bytes:
    """A checkpoint of the tiny synthetic config's model, built once."""
    return tiny_reid_checkpoint(
        tmp_path_factory.mktemp('reid') / 'tiny-reid.pth', seed=1)


@pytest.fixture(autouse=True, scope='module')
def single_thread():
    """Tiny forwards: one thread is faster on a shared CPU."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
