from .identity_sampler import CameraAwareIdentitySampler
from .instance_sampler import RandomInstanceSampler

__all__ = ['CameraAwareIdentitySampler', 'RandomInstanceSampler']
