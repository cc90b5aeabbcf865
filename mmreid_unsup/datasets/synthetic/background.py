"""The fixed background texture of a synthetic camera."""
import cv2
import numpy as np

from .camera import CameraStyle


def _blend(color1, color2, weight: np.ndarray) -> np.ndarray:
    """Per-pixel mix ``(1 - weight) * color1 + weight * color2``."""
    color1 = np.asarray(color1, dtype=np.float32)
    color2 = np.asarray(color2, dtype=np.float32)
    return color1 + weight[..., None] * (color2 - color1)


def make_background(camera: CameraStyle, height: int,
                    width: int) -> np.ndarray:
    """Draw the camera's scene without anybody in it.

    Each image crops it at a random offset, so the scene stays the same in
    one camera while the person moves.

    Args:
        camera (CameraStyle): The camera.
        height (int): Texture height (the image height plus a margin).
        width (int): Texture width (the image width plus a margin).

    Returns:
        np.ndarray: ``float32`` array of shape ``(height, width, 3)``.
    """
    rng = np.random.default_rng(camera.texture_seed)
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    tile = max(4, int(round(height * rng.uniform(0.06, 0.11))))
    yy, xx = np.mgrid[:height, :width]
    if camera.bg_kind == 'vgradient':
        weight = np.broadcast_to(ys, (height, width))
    elif camera.bg_kind == 'hgradient':
        weight = np.broadcast_to(xs, (height, width))
    elif camera.bg_kind == 'floor':
        horizon = rng.uniform(0.5, 0.7)
        checker = ((yy // tile + xx // tile) % 2).astype(np.float32)
        weight = np.where(ys > horizon, 0.4 + 0.6 * checker, 0.15 * ys)
    elif camera.bg_kind == 'bricks':
        row = yy // tile
        shifted = xx + (row % 2) * tile
        mortar = (yy % tile == 0) | (shifted % (2 * tile) == 0)
        weight = mortar.astype(np.float32)
    else:  # blotches: smooth random spots
        coarse = rng.random((4, 3)).astype(np.float32)
        weight = cv2.resize(coarse, (width, height),
                            interpolation=cv2.INTER_CUBIC).clip(0, 1)
    texture = _blend(camera.bg_color, camera.bg_color2,
                     np.asarray(weight, dtype=np.float32))
    texture += rng.normal(0, 4, size=texture.shape).astype(np.float32)
    return texture
