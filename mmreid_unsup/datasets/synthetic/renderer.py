"""Draw one synthetic pedestrian as a given camera sees it."""
from typing import Tuple

import cv2
import numpy as np

from .camera import VIEWPOINTS, CameraStyle
from .colors import Color, scale_color
from .identity import IdentityAppearance


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
          color: Color) -> None:
    """Fill the rectangle ``[x0, x1) x [y0, y1)``, clipped to the image."""
    h, w = img.shape[:2]
    x0, x1 = max(0, int(round(x0))), min(w, int(round(x1)))
    y0, y1 = max(0, int(round(y0))), min(h, int(round(y1)))
    if x1 > x0 and y1 > y0:
        img[y0:y1, x0:x1] = color


def _ellipse(img: np.ndarray, cx: float, cy: float, ax: float, ay: float,
             color: Color, start: float = 0, end: float = 360) -> None:
    """Fill an ellipse (or a sector of it, angles in degrees)."""
    cv2.ellipse(img, (int(round(cx)), int(round(cy))),
                (max(1, int(round(ax))), max(1, int(round(ay)))), 0, start,
                end, color, -1, lineType=cv2.LINE_8)


def _pattern(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
             identity: IdentityAppearance, period: float) -> None:
    """Paint stripes or checks over the rectangle of the top."""
    h, w = img.shape[:2]
    x0, x1 = max(0, int(round(x0))), min(w, int(round(x1)))
    y0, y1 = max(0, int(round(y0))), min(h, int(round(y1)))
    if x1 <= x0 or y1 <= y0:
        return
    half = max(1, int(round(period / 2)))
    rows = ((np.arange(y1 - y0) // half) % 2 == 1)[:, None]
    cols = ((np.arange(x1 - x0) // half) % 2 == 1)[None, :]
    if identity.pattern == 'hstripes':
        mask = np.broadcast_to(rows, (y1 - y0, x1 - x0))
    elif identity.pattern == 'vstripes':
        mask = np.broadcast_to(cols, (y1 - y0, x1 - x0))
    else:  # checks
        mask = rows ^ cols
    img[y0:y1, x0:x1][mask] = identity.pattern_color


class PedestrianRenderer:
    """Render identities through cameras at a fixed image size.

    Identity and camera are separate factors: the identity decides clothes,
    body and accessories; the camera decides the scene, the viewpoint
    distribution, the framing, the light, blur, occluders and noise.

    Args:
        img_size (tuple[int, int]): The image ``(h, w)``.
    """

    def __init__(self, img_size: Tuple[int, int] = (128, 64)) -> None:
        self.height, self.width = img_size
        self.sy = self.height / 128.0
        self.sx = self.width / 64.0
        self.margin = max(2, int(round(8 * self.sy)))

    def render(self, identity: IdentityAppearance, camera: CameraStyle,
               background: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
        """Draw one image.

        Args:
            identity (IdentityAppearance): Who is seen.
            camera (CameraStyle): Through which camera.
            background (np.ndarray): The camera's scene, at least
                ``margin`` pixels taller than the image on each side and
                wider than the image; each image shows a random window of
                it, lit with its own random tint.
            rng (np.random.Generator): This image's random source.

        Returns:
            np.ndarray: The image, uint8 BGR of shape ``(h, w, 3)``.
        """
        h, w, m = self.height, self.width, self.margin
        top = rng.integers(0, 2 * m + 1)
        left = rng.integers(0, background.shape[1] - w + 1)
        tint = rng.uniform(0.65, 1.35, size=3).astype(np.float32)
        img = background[top:top + h, left:left + w] * tint
        view = VIEWPOINTS[rng.choice(3, p=camera.view_probs)]
        facing = int(rng.choice([-1, 1]))
        scale = np.clip(rng.normal(camera.scale, 0.03), 0.6, 0.98)
        unit = h * scale * identity.height
        bottom = h - rng.uniform(1, 5) * self.sy
        cx = w / 2 + rng.normal(0, camera.shift) * self.sx
        self._draw_person(img, identity, view, facing, cx, bottom - unit,
                          unit)
        if rng.random() < camera.occlusion_prob:
            self._draw_occluder(img, camera, rng)
        return self._apply_camera(img, camera, rng)

    def _draw_person(self, img: np.ndarray, ident: IdentityAppearance,
                     view: str, facing: int, cx: float, top: float,
                     u: float) -> None:
        """Draw the body, clothes and accessories; ``u`` is the height."""
        side = view == 'side'
        r = 0.065 * u * ident.head_size
        head_cy = top + r
        torso_y0, waist = top + 2 * r + 0.015 * u, top + 0.52 * u
        half = (0.11 if side else 0.17) * u * ident.width
        arm_w = 0.055 * u * ident.width
        foot_y = top + 0.96 * u

        # Legs, hips and shoes.
        legs = ([(cx - 0.06 * u * ident.width, cx + 0.06 * u * ident.width)]
                if side else
                [(cx - 0.01 * u - 0.075 * u * ident.width, cx - 0.01 * u),
                 (cx + 0.01 * u, cx + 0.01 * u + 0.075 * u * ident.width)])
        covered = dict(trousers=foot_y, shorts=waist + 0.17 * u,
                       skirt=waist)[ident.lower_style]
        for x0, x1 in legs:
            _rect(img, x0, waist, x1, covered, ident.lower_color)
            _rect(img, x0, covered, x1, foot_y, ident.skin_color)
            _rect(img, x0 - 0.01 * u, foot_y, x1 + 0.01 * u, top + u,
                  ident.shoe_color)
        _rect(img, legs[0][0], waist, legs[-1][1], waist + 0.06 * u,
              ident.lower_color)
        if ident.lower_style == 'skirt':
            flare = 1.25 * half
            pts = np.array([[cx - 0.9 * half, waist], [cx + 0.9 * half, waist],
                            [cx + flare, waist + 0.22 * u],
                            [cx - flare, waist + 0.22 * u]])
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)],
                         ident.lower_color)

        # Torso, its pattern, arms.
        _rect(img, cx - half, torso_y0, cx + half, waist, ident.upper_color)
        period = ident.stripe_period * self.sy
        if ident.pattern in ('hstripes', 'vstripes', 'checks'):
            _pattern(img, cx - half, torso_y0, cx + half, waist, ident,
                     period)
        elif ident.pattern == 'logo' and view == 'front':
            _ellipse(img, cx, torso_y0 + 0.12 * u, 0.05 * u, 0.05 * u,
                     ident.pattern_color)
        sleeve_end = top + (0.5 if ident.long_sleeves else 0.32) * u
        arms = ([cx + facing * 0.02 * u - arm_w / 2] if side else
                [cx - half - arm_w, cx + half])
        sleeve = (scale_color(ident.upper_color, 0.8)
                  if side else ident.upper_color)
        for x0 in arms:
            _rect(img, x0, torso_y0 + 0.01 * u, x0 + arm_w, sleeve_end,
                  sleeve)
            _rect(img, x0, sleeve_end, x0 + arm_w, top + 0.55 * u,
                  ident.skin_color)

        # Accessories on the body.
        if ident.backpack_color is not None:
            self._draw_backpack(img, ident.backpack_color, view, facing, cx,
                                torso_y0, half, u)
        if ident.bag_color is not None:
            # Seen from the back, the bag's body side is mirrored.
            bag_x = ident.bag_side * (-1 if view == 'back' else 1)
            if not side:
                x0 = cx + bag_x * (half + arm_w) - (0.12 * u if bag_x < 0
                                                    else 0)
                _rect(img, x0, top + 0.42 * u, x0 + 0.12 * u, top + 0.56 * u,
                      ident.bag_color)
            elif ident.bag_side == facing:
                _rect(img, cx - 0.07 * u, top + 0.42 * u, cx + 0.07 * u,
                      top + 0.55 * u, ident.bag_color)

        # Head, hair, hat.
        hair, skin = ident.hair_color, ident.skin_color
        if ident.long_hair and view != 'front':
            _rect(img, cx - 0.9 * r, head_cy, cx + 0.9 * r,
                  torso_y0 + 0.12 * u, hair)
        _ellipse(img, cx, head_cy, 0.85 * r, r, hair)
        if view == 'front':
            if ident.long_hair:
                _rect(img, cx - 1.0 * r, head_cy, cx + 1.0 * r,
                      torso_y0 + 0.05 * u, hair)
            _ellipse(img, cx, head_cy + 0.2 * r, 0.7 * r, 0.8 * r, skin)
        elif side:
            start = -60 if facing > 0 else 120
            _ellipse(img, cx + facing * 0.1 * r, head_cy + 0.2 * r, 0.75 * r,
                     0.8 * r, skin, start, start + 120)
        if ident.hat_color is not None:
            _ellipse(img, cx, head_cy - 0.3 * r, 0.9 * r, 0.75 * r,
                     ident.hat_color, 180, 360)
            _rect(img, cx - 1.15 * r, head_cy - 0.35 * r, cx + 1.15 * r,
                  head_cy - 0.1 * r, ident.hat_color)

    @staticmethod
    def _draw_backpack(img: np.ndarray, color: Color, view: str, facing: int,
                       cx: float, y0: float, half: float, u: float) -> None:
        """A backpack from the back or the side; only straps from the front."""
        if view == 'back':
            _rect(img, cx - 0.75 * half, y0 + 0.04 * u, cx + 0.75 * half,
                  y0 + 0.3 * u, color)
        elif view == 'side':
            x0 = cx - facing * half - (0.09 * u if facing > 0 else 0)
            _rect(img, x0, y0 + 0.03 * u, x0 + 0.09 * u, y0 + 0.28 * u, color)
        else:
            strap = max(1.0, 0.02 * u)
            for x in (cx - 0.6 * half, cx + 0.6 * half - strap):
                _rect(img, x, y0, x + strap, y0 + 0.2 * u, color)

    def _draw_occluder(self, img: np.ndarray, camera: CameraStyle,
                       rng: np.random.Generator) -> None:
        """A pole or a box between the camera and the person."""
        h, w = img.shape[:2]
        if camera.occluder == 'pole':
            pole_w = rng.uniform(0.08, 0.16) * w
            x0 = rng.uniform(0, w - pole_w)
            _rect(img, x0, 0, x0 + pole_w, h, camera.occluder_color)
        else:
            y0 = rng.uniform(0.6, 0.8) * h
            box_w = rng.uniform(0.5, 1.0) * w
            x0 = rng.uniform(-0.2 * w, w - 0.8 * box_w)
            _rect(img, x0, y0, x0 + box_w, h, camera.occluder_color)

    def _apply_camera(self, img: np.ndarray, camera: CameraStyle,
                      rng: np.random.Generator) -> np.ndarray:
        """Light, colour cast, blur and noise; returns uint8."""
        gain = camera.gain * rng.uniform(0.93, 1.07)
        img = img * (gain * np.asarray(camera.cast, np.float32)) + np.asarray(
            camera.offset, np.float32)
        if camera.blur_sigma > 0:
            img = cv2.GaussianBlur(img, (0, 0), camera.blur_sigma * self.sy)
        img += rng.normal(0, camera.noise_std, img.shape).astype(np.float32)
        return np.clip(np.round(img), 0, 255).astype(np.uint8)
