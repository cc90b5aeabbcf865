"""NonLocalBlock: the identity when new, a global mixing once trained."""
import torch

from mmreid_unsup.models.layers import NonLocalBlock


def test_new_block_is_the_identity():
    block = NonLocalBlock(8)
    x = torch.randn(2, 8, 5, 3)
    assert torch.equal(block(x), x)
    assert block.inter_channels == 4


def test_every_position_sees_every_other():
    torch.manual_seed(0)
    block = NonLocalBlock(4, inter_channels=2).eval()
    torch.nn.init.ones_(block.out[1].weight)
    x = torch.randn(1, 4, 3, 3)
    y = block(x)
    x2 = x.clone()
    x2[..., 2, 2] += 1.0  # change one corner
    y2 = block(x2)
    # The opposite corner's output changes too.
    assert not torch.allclose(y[..., 0, 0], y2[..., 0, 0])
