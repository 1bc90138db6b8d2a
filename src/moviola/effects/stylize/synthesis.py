"""Example-guided synthesis for stylize: a keyframe's look carried along the motion.

Per frame, at a working resolution, a field says for every pixel which position of the keyframe
it takes its colour from, found by guided PatchMatch (vision/patchmatch.py) over the frame's
guides (Lab colour and edges), the positional guide (the keyframe's grid carried by optical
flow) and the temporal guide (the previous output, warped by flow); :func:`render` draws the
full-resolution picture through that field. :func:`transfer_style` makes a keyframe from a
style image by guided texture transfer. ``FRAME=IMAGE`` keyframe specs are parsed here too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, to_uint8
from moviola.media.time import parse_time
from moviola.vision import patchmatch as pm
from moviola.vision.flow import warp

# cost weights of the guided synthesis (guides are in 0..~1 units, positions in working pixels)
_W_GUIDE = np.array([2.0, 1.2, 1.2, 2.0], np.float32)  # L, a, b, edges
_W_TEMPORAL = 1.0
_STALE = 0.3  # guide mismatch at which the temporal guide's weight falls to 1/e
_W_POSITION = 0.02  # per working pixel squared
_POSITION_CAP = 1.0


# -- keyframe specs --------------------------------------------------------------------------------
@dataclass
class KeySpec:
    """FRAME=IMAGE: a frame number (int) or a time in seconds (Fraction)."""

    text: str
    index: int | None
    time: Fraction | None
    path: Path
    done: bool = False

    def matches(self, frame: Frame) -> bool:
        if self.index is not None:
            return frame.index == self.index
        assert self.time is not None  # parse_keyframe: a frame number or a time
        half = frame.duration / 2  # the frame nearest to the time
        return frame.time - half <= self.time < frame.time + half

    def still_ahead(self, frame: Frame) -> bool:
        if self.done:
            return False
        if self.index is not None:
            return self.index > frame.index
        assert self.time is not None
        return self.time >= frame.time + frame.duration / 2


def parse_keyframe(text: str) -> KeySpec:
    """'12=look.png' (frame 12), '2.5s=look.png' or '00:02.5=look.png' (a time). The image
    must exist (it is read when the effect is configured)."""
    if "=" not in text:
        raise MoviolaError(
            f"stylize: keyframe {text!r} must be FRAME=IMAGE (e.g. 0=painted.png or 2.5s=look.png)"
        )
    where, path = (part.strip() for part in text.split("=", 1))
    if not where or not path:
        raise MoviolaError(f"stylize: keyframe {text!r} must be FRAME=IMAGE")
    index: int | None = None
    time: Fraction | None = None
    if re.fullmatch(r"\d+", where):
        index = int(where)
    else:
        try:
            time = parse_time(where[:-1] if where.endswith("s") else where)
        except MoviolaError:
            raise MoviolaError(
                f"stylize: keyframe {text!r}: {where!r} is neither a frame number nor a time"
            ) from None
    p = Path(os.path.expanduser(path))
    if not p.is_file():
        raise MoviolaError(f"stylize: keyframe image not found: {path}")
    return KeySpec(text, index, time, p)


# -- guides ----------------------------------------------------------------------------------------
def work_size(width: int, height: int, short: int) -> tuple[int, int]:
    """The working size (w, h): ``short`` px on the short side, never enlarged, at least 8."""
    scale = min(1.0, short / min(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


def guides(rgb_small: np.ndarray) -> np.ndarray:
    """H x W x 4 float32: Lab colour and edge strength, scaled to about 0..1."""
    f = rgb_small.astype(np.float32) * np.float32(1 / 255)
    lab = cv2.cvtColor(f, cv2.COLOR_RGB2Lab)
    lum = lab[..., 0] * np.float32(1 / 100)
    soft = cv2.GaussianBlur(lum, (0, 0), 0.8)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    edge = np.minimum(1.0, np.sqrt(gx * gx + gy * gy) * 1.5)
    return np.dstack([lum, lab[..., 1] / 200 + 0.5, lab[..., 2] / 200 + 0.5, edge]).astype(
        np.float32
    )


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """Consistency mask without isolated specks; occluded regions grown by a pixel."""
    bad = (mask < 0.5).astype(np.uint8)
    bad = cv2.morphologyEx(bad, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    bad = cv2.dilate(bad, np.ones((3, 3), np.uint8))
    return 1.0 - bad.astype(np.float32)


# -- carrying a keyframe along motion --------------------------------------------------------------
@dataclass
class Key:
    """A keyframe: its stylized image (full size and working size) and its frame's guides."""

    style_full: np.ndarray  # H x W x 3 uint8, the frame's size
    style_small: np.ndarray  # h x w x 3 float32 0..1
    guides: np.ndarray  # h x w x 4
    position: int  # position in the stream
    label: str = ""

    @property
    def source(self) -> np.ndarray:
        return np.dstack([self.guides, self.style_small])


class Carrier:
    """Carries one keyframe's look from frame to frame (forward or backward in time).

    ``temporal=False`` is the per-frame baseline: every frame is synthesised from the keyframe
    by its guides alone, with no positional or temporal guide (what flickers).
    """

    def __init__(self, key: Key, *, temporal: bool = True, iterations: int = 2, seed: int = 0):
        self.key = key
        self.temporal = temporal
        h, w = key.guides.shape[:2]
        self.source = key.source
        # carried frames start from a good field (the previous one, moved by flow): short jumps
        # and a small search radius; the per-frame baseline starts from nothing
        self.matcher = pm.PatchMatch(
            (w, h),
            patch=5,
            iterations=iterations,
            radius=max(w, h) / (8 if temporal else 3),
            jumps=(4, 2, 1) if temporal else (8, 4, 2, 1),
            seed=seed,
        )
        self.field = pm.identity_field(h, w)
        self.position = self.field.copy()
        self.confidence = np.ones((h, w), np.float32)
        self.output = key.style_small.copy()
        self.cost = np.zeros((h, w), np.float32)

    def step(
        self, target: np.ndarray, flow_back: np.ndarray | None, mask: np.ndarray | None
    ) -> None:
        """Move to a frame with guides ``target``; ``flow_back`` maps its grid to the previous
        frame's, ``mask`` says where that flow is consistent (1) or occluded (0)."""
        h, w = target.shape[:2]
        if not self.temporal or flow_back is None:
            if not self.temporal:
                init = pm.identity_field(h, w)
                self.field, self.cost = self.matcher.run(init, self._cost(target, None, None))
                self.output = pm.sample(self.key.style_small, self.field)
            return
        assert mask is not None  # given with the flow
        mask = clean_mask(mask)
        self.position = warp(self.position, flow_back)
        self.confidence = warp(self.confidence, flow_back) * mask
        if self.matcher.iterations == 0:  # flow warp only: the keyframe follows the flow
            self.field = self.position
            self.output = pm.sample(self.key.style_small, self.field)
            return
        # the temporal guide is stale where what the previous output was copied from no longer
        # looks like this frame (someone walked away): it fades there, so no ghosts stay
        was = warp(pm.sample(self.key.guides, self.field), flow_back)
        stale = cv2.blur(((was - target) ** 2) @ _W_GUIDE, (5, 5))
        mask = mask * np.exp(-stale / _STALE)
        init = warp(self.field, flow_back)
        temporal = warp(self.output, flow_back)
        cost = self._cost(target, temporal, mask)
        self.field, self.cost = self.matcher.run(init, cost, extra=(self.position,))
        self.output = pm.sample(self.key.style_small, self.field)

    def _cost(
        self, target: np.ndarray, temporal: np.ndarray | None, mask: np.ndarray | None
    ) -> Callable[[np.ndarray], np.ndarray]:
        source = self.source
        position, confidence = self.position, self.confidence

        def cost(candidate: np.ndarray) -> np.ndarray:
            s = pm.sample(source, candidate)
            d = s[..., :4] - target
            c = (d * d) @ _W_GUIDE
            if temporal is not None and mask is not None:
                t = s[..., 4:] - temporal
                c += (t * t).sum(axis=2) * (_W_TEMPORAL * mask)
                p = candidate - position
                c += np.minimum((p * p).sum(axis=2) * _W_POSITION, _POSITION_CAP) * confidence
            return c

        return cost


def render(key: Key, fld: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The full-resolution picture a working-resolution field makes from a keyframe."""
    h, w = key.style_small.shape[:2]
    full_h, full_w = key.style_full.shape[:2]
    up = pm.upsample_field(fld, size, (full_w / w, full_h / h))
    return pm.sample(key.style_full, up)


def transfer_style(
    style: np.ndarray, frame: np.ndarray, short: int = 192, seed: int = 0
) -> np.ndarray:
    """A style image applied to a frame by guided texture transfer (image analogies with
    luminance and edge guides, no exemplar pair): the frame's size, the style's textures."""
    fh, fw = frame.shape[:2]
    tw, th = work_size(fw, fh, short)
    sh, sw = style.shape[:2]
    scale = min(1.0, 2.0 * short / min(sh, sw))
    ssw, ssh = max(8, round(sw * scale)), max(8, round(sh * scale))
    style_small = cv2.resize(style, (ssw, ssh), interpolation=cv2.INTER_AREA)
    frame_small = cv2.resize(to_uint8(frame[..., :3]), (tw, th), interpolation=cv2.INTER_AREA)
    gs, gt = guides(style_small), guides(frame_small)
    # luminance remapping (Hertzmann et al.): the style's luminance statistics to the frame's
    ls, lt = gs[..., 0], gt[..., 0]
    gs[..., 0] = (ls - ls.mean()) * (lt.std() / max(ls.std(), 1e-3)) + lt.mean()
    style_f = style_small.astype(np.float32) / 255
    source = np.dstack([gs[..., 0], gs[..., 3], style_f])
    target = np.dstack([gt[..., 0], gt[..., 3]])
    weights = np.array([1.0, 0.3], np.float32)
    smooth: np.ndarray | None = (
        None  # the current result, blurred: pulls neighbours to one stroke (coherence)
    )

    def cost(candidate: np.ndarray) -> np.ndarray:
        s = pm.sample(source, candidate)
        d = s[..., :2] - target
        c = (d * d) @ weights
        if smooth is not None:
            e = s[..., 2:] - smooth
            c += 0.5 * (e * e).sum(axis=2)
        return c

    rng = np.random.default_rng(seed)
    fld = np.dstack([rng.uniform(0, ssw - 1, (th, tw)), rng.uniform(0, ssh - 1, (th, tw))]).astype(
        np.float32
    )
    matcher = pm.PatchMatch((ssw, ssh), patch=9, iterations=3, seed=seed)
    fld, _ = matcher.run(fld, cost)
    for round_ in range(2):
        smooth = cv2.GaussianBlur(pm.sample(style_f, fld), (0, 0), 2.0)
        matcher = pm.PatchMatch(
            (ssw, ssh), patch=5, iterations=1, radius=16, seed=seed + 1 + round_
        )
        fld, _ = matcher.run(fld, cost)
    up = pm.upsample_field(fld, (fw, fh), (sw / ssw, sh / ssh))
    out = pm.sample(style, up)
    # the frame's shading through the style's colours: half the lightness from the frame
    # (remapped to the style's lightness statistics), so the content stays readable
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2Lab).astype(np.float32)
    lf = cv2.cvtColor(to_uint8(frame[..., :3]), cv2.COLOR_RGB2Lab)[..., 0].astype(np.float32)
    lf = (lf - lf.mean()) * (lab[..., 0].std() / max(1.0, lf.std())) + lab[..., 0].mean()
    lab[..., 0] = 0.5 * lab[..., 0] + 0.5 * lf
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)
