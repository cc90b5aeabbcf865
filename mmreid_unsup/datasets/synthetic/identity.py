"""The appearance of one synthetic identity, independent of any camera."""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .colors import Color, hsv_to_bgr, random_color

PATTERNS = ('plain', 'hstripes', 'vstripes', 'checks', 'logo')
LOWER_STYLES = ('trousers', 'shorts', 'skirt')
HAIR_COLORS = ((20., 20., 25.), (30., 50., 90.), (90., 170., 215.),
               (160., 160., 165.), (30., 55., 150.))
SKIN_LIGHT = (170., 200., 240.)
SKIN_DARK = (45., 65., 100.)


@dataclass(frozen=True)
class IdentityAppearance:
    """What makes a synthetic pedestrian recognisable in any camera.

    Lengths are relative to the person's height; colours are BGR 0-255.

    Args:
        upper_color: The top's colour.
        pattern: The top's pattern, one of :data:`PATTERNS`; a ``'logo'`` is
            only on the front.
        pattern_color: The colour of stripes, checks or logo.
        stripe_period: Period of stripes and checks, in pixels at 128 px
            image height.
        long_sleeves: Whether the arms are covered.
        lower_color: The trousers', shorts' or skirt's colour.
        lower_style: One of :data:`LOWER_STYLES`.
        shoe_color: The shoes' colour.
        skin_color: Face, hands and bare legs.
        hair_color: The hair's colour.
        long_hair: Long hair shows on the back and beside the face.
        height: Body height, a fraction of the tallest.
        width: Body width factor.
        head_size: Head size factor.
        backpack_color: None without a backpack; seen from the back and the
            side, only its straps from the front.
        bag_color: None without a shoulder bag.
        bag_side: ``+1`` or ``-1``, the body side of the bag; it shows from
            the front, the back, and the side view facing that way.
        hat_color: None without a hat.
    """

    upper_color: Color
    pattern: str
    pattern_color: Color
    stripe_period: int
    long_sleeves: bool
    lower_color: Color
    lower_style: str
    shoe_color: Color
    skin_color: Color
    hair_color: Color
    long_hair: bool
    height: float
    width: float
    head_size: float
    backpack_color: Optional[Color]
    bag_color: Optional[Color]
    bag_side: int
    hat_color: Optional[Color]


def sample_identity(rng: np.random.Generator) -> IdentityAppearance:
    """Draw a random identity.

    Args:
        rng (np.random.Generator): The identity's own random source.

    Returns:
        IdentityAppearance: The identity.
    """
    hue = rng.random()
    if rng.random() < 0.2:  # white, grey or black clothes
        upper = hsv_to_bgr(hue, rng.uniform(0, 0.1), rng.uniform(0.1, 0.95))
    else:
        upper = hsv_to_bgr(hue, rng.uniform(0.35, 1), rng.uniform(0.35, 1))
    upper_val = max(upper) / 255
    pattern_color = hsv_to_bgr(hue + rng.uniform(0.3, 0.7), rng.uniform(0, 1),
                               1.0 - 0.8 * upper_val + rng.uniform(0, 0.2))
    skin = rng.random()
    skin_color = tuple(a * (1 - skin) + b * skin
                       for a, b in zip(SKIN_LIGHT, SKIN_DARK))

    def maybe_color(prob: float) -> Optional[Color]:
        if rng.random() < prob:
            return random_color(rng, sat=(0.2, 1), val=(0.15, 0.9))
        return None

    return IdentityAppearance(
        upper_color=upper,
        pattern=PATTERNS[rng.integers(len(PATTERNS))],
        pattern_color=pattern_color,
        stripe_period=int(rng.integers(6, 14)),
        long_sleeves=bool(rng.random() < 0.6),
        lower_color=random_color(rng, sat=(0, 0.7), val=(0.12, 0.8)),
        lower_style=LOWER_STYLES[rng.choice(3, p=[0.6, 0.25, 0.15])],
        shoe_color=random_color(rng, sat=(0, 0.5), val=(0.05, 0.5)),
        skin_color=skin_color,
        hair_color=HAIR_COLORS[rng.integers(len(HAIR_COLORS))],
        long_hair=bool(rng.random() < 0.35),
        height=float(rng.uniform(0.86, 1.0)),
        width=float(rng.uniform(0.85, 1.2)),
        head_size=float(rng.uniform(0.9, 1.15)),
        backpack_color=maybe_color(0.35),
        bag_color=maybe_color(0.3),
        bag_side=int(rng.choice([-1, 1])),
        hat_color=maybe_color(0.2))
