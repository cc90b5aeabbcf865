"""The look of one synthetic camera, independent of who walks by."""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .colors import Color, hsv_to_bgr

BACKGROUNDS = ('vgradient', 'hgradient', 'floor', 'bricks', 'blotches')
VIEWPOINTS = ('front', 'back', 'side')


@dataclass(frozen=True)
class CameraStyle:
    """Scene, optics and viewing angle of one camera.

    Args:
        bg_kind: The background's texture, one of :data:`BACKGROUNDS`.
        bg_color: The background's main colour (BGR 0-255).
        bg_color2: Its second colour (gradient end, tiles, bricks).
        texture_seed: Seed of the camera's fixed background texture.
        gain: Illumination gain applied to the whole image.
        cast: Per-channel (BGR) multipliers: the colour cast.
        offset: Per-channel (BGR) additive offset.
        view_probs: Probabilities of front, back and side views.
        scale: Mean person height as a fraction of the image height.
        shift: Standard deviation of the horizontal position, in pixels at
            64 px image width.
        blur_sigma: Gaussian blur sigma in pixels at 128 px image height.
        occlusion_prob: Probability of an occluder in front of the person.
        occluder: ``'pole'`` or ``'box'``.
        occluder_color: The occluder's colour.
        noise_std: Standard deviation of the pixel noise.
    """

    bg_kind: str
    bg_color: Color
    bg_color2: Color
    texture_seed: int
    gain: float
    cast: Tuple[float, float, float]
    offset: Tuple[float, float, float]
    view_probs: Tuple[float, float, float]
    scale: float
    shift: float
    blur_sigma: float
    occlusion_prob: float
    occluder: str
    occluder_color: Color
    noise_std: float


def sample_camera(rng: np.random.Generator,
                  index: int,
                  num_cams: int,
                  bg_kind: Optional[str] = None) -> CameraStyle:
    """Draw a random camera.

    Background hues are spread around the colour wheel (camera ``index`` of
    ``num_cams`` gets its own sector), so that cameras differ strongly, as
    real cameras of a re-ID benchmark do.

    Args:
        rng (np.random.Generator): The camera's own random source.
        index (int): The camera's 0-based index.
        num_cams (int): The number of cameras.
        bg_kind (str, optional): The background texture; drawn at random
            if None. The generator deals the textures out in turns, so
            that neighbouring cameras differ in texture as well as colour.

    Returns:
        CameraStyle: The camera.
    """
    hue = (index + rng.uniform(0.2, 0.8)) / num_cams
    sat, val = rng.uniform(0.15, 0.45), rng.uniform(0.35, 0.85)
    bg_color = hsv_to_bgr(hue, sat, val)
    bg_color2 = hsv_to_bgr(hue + rng.uniform(-0.08, 0.08),
                           sat * rng.uniform(0.5, 1.2),
                           val * rng.uniform(0.45, 0.8))
    views = rng.dirichlet([1.2, 1.2, 1.2])
    return CameraStyle(
        bg_kind=bg_kind or BACKGROUNDS[rng.integers(len(BACKGROUNDS))],
        bg_color=bg_color,
        bg_color2=bg_color2,
        texture_seed=int(rng.integers(2**31)),
        gain=float(rng.uniform(0.8, 1.2)),
        cast=tuple(float(c) for c in rng.uniform(0.9, 1.1, size=3)),
        offset=tuple(float(c) for c in rng.uniform(-15, 15, size=3)),
        view_probs=tuple(float(v) for v in views),
        scale=float(rng.uniform(0.8, 0.92)),
        shift=float(rng.uniform(1.0, 4.0)),
        blur_sigma=float(
            rng.uniform(0.5, 1.3) if rng.random() < 0.5 else 0.0),
        occlusion_prob=float(rng.uniform(0.0, 0.3)),
        occluder=('pole', 'box')[rng.integers(2)],
        occluder_color=hsv_to_bgr(rng.random(), rng.uniform(0, 0.6),
                                  rng.uniform(0.15, 0.7)),
        noise_std=float(rng.uniform(2, 7)))
