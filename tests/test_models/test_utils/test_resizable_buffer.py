import pytest
import torch
import torch.nn as nn
from mmengine.runner import load_checkpoint

from mmreid_unsup.models.utils import ResizableBufferMixin


class Toy(ResizableBufferMixin, nn.Module):
    resizable_buffers = ('bank', 'labels')

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.register_buffer('bank', torch.zeros(0, 2))
        self.register_buffer('labels', torch.zeros(0, dtype=torch.long))
        self.register_buffer('fixed', torch.zeros(3))


class Parent(nn.Module):

    def __init__(self):
        super().__init__()
        self.child = Toy()


def _filled_toy():
    toy = Toy()
    toy.bank = torch.randn(3, 2)
    toy.labels = torch.tensor([0, 2, -1, 1, 1])
    return toy


def test_load_resizes_listed_buffers():
    source = _filled_toy()
    target = Toy()
    target.load_state_dict(source.state_dict())
    assert torch.equal(target.bank, source.bank)
    assert torch.equal(target.labels, source.labels)
    assert target.labels.dtype == torch.long


def test_shrinks_as_well_as_grows():
    source = Toy()
    target = _filled_toy()
    target.load_state_dict(source.state_dict())
    assert target.bank.shape == (0, 2)
    assert target.labels.shape == (0, )


def test_nested_module_and_mmengine_load_checkpoint(tmp_path):
    source = Parent()
    source.child.bank = torch.randn(4, 2)
    source.child.labels = torch.arange(7)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    target = Parent()
    load_checkpoint(target, str(path), strict=True)
    assert torch.equal(target.child.bank, source.child.bank)
    assert torch.equal(target.child.labels, source.child.labels)


def test_unlisted_buffers_still_fail_on_mismatch():
    state = Toy().state_dict()
    state['fixed'] = torch.zeros(5)
    with pytest.raises(RuntimeError, match='size mismatch'):
        Toy().load_state_dict(state)


def test_mixin_after_module_base_is_rejected():
    with pytest.raises(TypeError, match='before the nn.Module'):

        class Wrong(nn.Module, ResizableBufferMixin):
            pass
