from .identity_sampler import CameraAwareIdentitySampler
from .instance_sampler import RandomInstanceSampler
from .pseudo_pair_sampler import PseudoPairSampler

__all__ = [
    'CameraAwareIdentitySampler', 'RandomInstanceSampler', 'PseudoPairSampler'
]
