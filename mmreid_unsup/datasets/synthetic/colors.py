"""Colour helpers of the synthetic generator (BGR, 0-255 floats)."""
import colorsys
from typing import Tuple

import numpy as np

Color = Tuple[float, float, float]


def hsv_to_bgr(hue: float, sat: float, val: float) -> Color:
    """Convert HSV in ``[0, 1]`` to a BGR colour in ``[0, 255]``.

    Args:
        hue (float): Hue, taken modulo 1.
        sat (float): Saturation.
        val (float): Value (brightness).

    Returns:
        tuple: ``(b, g, r)`` floats.
    """
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, sat, val)
    return (255.0 * b, 255.0 * g, 255.0 * r)


def random_color(rng: np.random.Generator,
                 sat: Tuple[float, float] = (0.0, 1.0),
                 val: Tuple[float, float] = (0.0, 1.0)) -> Color:
    """A colour of uniform hue and uniform saturation / value in ranges.

    Args:
        rng (np.random.Generator): The random source.
        sat (tuple): Range of the saturation.
        val (tuple): Range of the value.

    Returns:
        tuple: ``(b, g, r)`` floats.
    """
    return hsv_to_bgr(rng.random(), rng.uniform(*sat), rng.uniform(*val))


def scale_color(color: Color, factor: float) -> Color:
    """Brighten or darken a colour, clipped to ``[0, 255]``."""
    return tuple(float(min(255.0, c * factor)) for c in color)
