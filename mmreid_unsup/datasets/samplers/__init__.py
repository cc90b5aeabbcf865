from .identity_sampler import CameraAwareIdentitySampler

__all__ = ['CameraAwareIdentitySampler']
