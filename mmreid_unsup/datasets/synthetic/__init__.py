"""A deterministic synthetic multi-camera pedestrian re-ID generator."""
from .camera import CameraStyle, sample_camera
from .generator import GENERATOR_VERSION, generate_synthetic_reid
from .identity import IdentityAppearance, sample_identity
from .renderer import PedestrianRenderer

__all__ = [
    'generate_synthetic_reid', 'GENERATOR_VERSION', 'IdentityAppearance',
    'sample_identity', 'CameraStyle', 'sample_camera', 'PedestrianRenderer'
]
