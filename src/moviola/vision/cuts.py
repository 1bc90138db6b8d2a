"""A classical, streaming shot-boundary detector: hard cuts, dissolves and fades.

Each frame is reduced to a 64 x 36 thumbnail; two changes are measured between consecutive
thumbnails:

- ``pixel``: the mean absolute difference of the grey thumbnails (0..1) after the best global
  shift of up to 2 pixels, so that a camera pan or shake is not a change;
- ``colour``: half the L1 distance of their HSV histograms (16 hue x 4 saturation x 4 value
  bins; 0..1), blind to motion.

Hard cut at frame t: the pixel change into t stands out from the changes just before and after
it (2.5 times the larger one, and over an absolute floor), and the colour or the picture changes
clearly. A single flash frame changes twice in a row and is no cut.

Gradual transitions (twin comparison): the pixel change rises above the footage's own level
(a running median of the quiet frames before) for several frames in a row: a candidate. When the
changes fall back, the frames before (A) and after (B) the candidate are compared as a whole: a
dissolve is a real change (A and B differ clearly) whose frames in between are mixes of A and B
(each is close to A + alpha (B - A), alpha growing), which tells it from camera motion; a fade
is a candidate that reaches a blank (black or white, uniform) frame.

Decisions lag the input by two frames (a gradual transition: until it ends); memory is bounded
by the longest gradual transition followed (:data:`MAX_GRADUAL` frames of thumbnails).

For effects that act at cuts as frames stream past (interpolate, face tracking), a cheaper
signal with no lag: :func:`frame_change` between the :class:`FrameSignature` of two consecutive
frames (a change of structure that no small motion explains, or of colour), and
:func:`same_picture` for repeated frames; :func:`colour_histogram` and
:func:`histogram_change` are its colour part.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from moviola.media.frame import to_uint8

log = logging.getLogger("moviola")

#: Thumbnail size (width, height).
SIZE = (64, 36)
#: Longest gradual transition followed, frames; a longer run of change is motion.
MAX_GRADUAL = 150
_SHIFT = 2
_BG_FRAMES = 30


@dataclass
class Cut:
    """A boundary: the new shot starts at ``first``; a gradual transition spans ``frames``
    frames from there (0 for a hard cut)."""

    first: int
    frames: int
    kind: str  # cut, dissolve, fade
    score: float


@dataclass
class _Rec:
    index: int
    grey: np.ndarray
    hist: np.ndarray
    pixel: float  # change from the previous frame
    colour: float
    blank: bool


def _grey_hist(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if rgb.shape[1] != SIZE[0] or rgb.shape[0] != SIZE[1]:
        rgb = cv2.resize(rgb, SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    return grey, hist / max(float(hist.sum()), 1.0)


def shifted_difference(a: np.ndarray, b: np.ndarray, shift: int = _SHIFT) -> float:
    """Mean absolute difference of two grey images (0..255 in, 0..1 out) at the best global
    shift of up to ``shift`` pixels."""
    h, w = a.shape
    best = np.inf
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            pa = a[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)]
            pb = b[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
            best = min(best, float(cv2.absdiff(pa, pb).mean()))
    return best / 255.0


def blank(grey: np.ndarray) -> bool:
    """Black or white and nearly uniform (the middle of a fade)."""
    mean, std = float(grey.mean()), float(grey.std())
    return std < 12.0 and (mean < 40.0 or mean > 215.0)


def mix_residual(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> tuple[float, float]:
    """How well ``m`` is a mix of ``a`` and ``b``: (alpha, residual relative to |b - a|)."""
    d = (b - a).ravel()
    norm = float(d @ d)
    if norm <= 1e-6:
        return 0.0, np.inf
    x = (m - a).ravel()
    alpha = float(x @ d) / norm
    r = x - alpha * d
    return alpha, float(np.sqrt(r @ r / norm))


class CutDetector:
    """Push thumbnails (RGB, any size; :data:`SIZE` saves a resize) in order; get :class:`Cut`
    boundaries as they are decided. ``sensitivity`` 0..1 (default 0.5): higher finds more."""

    def __init__(self, sensitivity: float | None = None) -> None:
        s = 0.5 if sensitivity is None else float(sensitivity)
        self.scale = 2.0 ** ((0.5 - s) * 2)  # 0.5 -> 1, 1 -> 0.5, 0 -> 2
        self.recent: deque[_Rec] = deque(maxlen=MAX_GRADUAL + 4)
        self.quiet: deque[float] = deque(maxlen=_BG_FRAMES)
        self.candidate: int | None = None  # first frame of an open gradual candidate
        self.misses = 0
        self.last_elevated = -1

    # -- input ----------------------------------------------------------------------------------

    def push(self, index: int, rgb: np.ndarray) -> list[Cut]:
        grey, hist = _grey_hist(rgb)
        prev = self.recent[-1] if self.recent else None
        if prev is None:
            pixel = colour = 0.0
        else:
            pixel = shifted_difference(grey, prev.grey)
            colour = 0.5 * float(np.abs(hist - prev.hist).sum())
        self.recent.append(_Rec(index, grey, hist, pixel, colour, blank(grey)))
        if len(self.recent) < 3:
            return []
        return self._decide(self.recent[-2], self.recent[-3], self.recent[-1])

    def finish(self) -> list[Cut]:
        out = []
        if len(self.recent) >= 2:
            last = self.recent[-1]
            nxt = _Rec(last.index + 1, last.grey, last.hist, 0.0, 0.0, last.blank)
            out += self._decide(last, self.recent[-2], nxt)
        if self.candidate is not None:
            out += self._close(self.last_elevated)
        return out

    # -- decisions ------------------------------------------------------------------------------

    def _is_cut(self, r: _Rec, before: _Rec, after: _Rec) -> bool:
        k = self.scale
        around = max(before.pixel, after.pixel)
        return r.pixel > max(0.05 * k, 2.5 * around) and (r.colour > 0.25 * k or r.pixel > 0.12 * k)

    def _level(self) -> float:
        bg = float(np.median(self.quiet)) if self.quiet else 0.004
        return max(0.006 * self.scale, 1.4 * bg + 0.003 * self.scale)

    def _decide(self, r: _Rec, before: _Rec, after: _Rec) -> list[Cut]:
        """Frame ``r`` now has both neighbours: a cut into it, part of a gradual candidate, or
        quiet."""
        out: list[Cut] = []
        if self._is_cut(r, before, after):
            if self.candidate is not None:
                out += self._close(r.index)
            out.append(Cut(r.index, 0, "cut", min(1.0, r.pixel * 4)))
            return out
        elevated = r.pixel > self._level() or (r.blank and self.candidate is not None)
        if self.candidate is None:
            if elevated:
                self.candidate, self.misses = r.index, 0
                self.last_elevated = r.index
            else:
                self.quiet.append(r.pixel)
            return out
        if elevated:
            self.misses = 0
            self.last_elevated = r.index
            if r.index - self.candidate > MAX_GRADUAL:  # a long run of change: motion
                self.candidate = None
                self.quiet.append(r.pixel)
            return out
        self.misses += 1
        if self.misses >= 2:
            out += self._close(self.last_elevated)
        return out

    def _frame(self, index: int) -> _Rec | None:
        for r in reversed(self.recent):
            if r.index == index:
                return r
            if r.index < index:
                break
        return None

    def _close(self, end: int) -> list[Cut]:
        """Judge the candidate from ``self.candidate`` (the first frame that changed) to
        ``end`` (the last one). Within it, the dissolve is the stretch [first, e) whose frames
        lie closest to a straight path from the frame before it (A) to frame e (B): the net
        change A -> B divided by the sum of the frame-to-frame changes (1 for a linear mix,
        far less for motion), the mix then checked frame by frame."""
        first, self.candidate = self.candidate, None
        if first is None:
            return []
        found = [self._frame(i) for i in range(first - 1, end + 1)]
        recs = [r for r in found if r is not None]
        if end - first < 3 or len(recs) < len(found):
            return []
        return self._judge(recs)

    def _judge(self, recs: list[_Rec]) -> list[Cut]:
        """Transitions among frames ``recs`` (consecutive; the first and last are the frames
        before and after the change)."""
        if len(recs) < 5:
            return []
        blanks = [r.index for r in recs[1:-1] if r.blank]
        if blanks:
            # the blank frames; the fade's ramps on either side are measured by the caller
            run = [blanks[0]]
            while run[-1] + 1 in blanks:
                run.append(run[-1] + 1)
            at = [r.index for r in recs].index(run[0])
            return [
                *self._judge(recs[: at + 1]),
                Cut(run[0], len(run), "fade", 0.5),
                *self._judge(recs[at + len(run) - 1 :]),
            ]
        k = self.scale
        steps = np.cumsum([0.0] + [r.pixel for r in recs[1:]])  # steps[j]: path to recs[j]

        greys = np.stack([r.grey.ravel() for r in recs])
        best, i, j = 0.0, 0, 0
        for u in range(len(recs) - 4):
            # net change from frame u to every later frame, over the path length between them
            change = np.abs(greys[u + 4 :] - greys[u]).mean(axis=1) / 255.0
            path = np.maximum(steps[u + 4 :] - steps[u], 1e-6)
            straight = change / path
            score = np.where((change > 0.06 * k) & (straight > 0.5), straight * change, 0.0)
            v = int(np.argmax(score))
            if score[v] > best:
                best, i, j = float(score[v]), u, u + 4 + v
        if best <= 0:
            return []
        a, b, frames = recs[i], recs[j], recs[i + 1 : j]
        n = len(frames)
        fits = [
            mix_residual(a.grey, b.grey, frames[int(q * (n - 1))].grey) for q in (0.25, 0.5, 0.75)
        ]
        alphas = [f[0] for f in fits]
        residual = float(np.median([f[1] for f in fits]))
        growing = (
            alphas[0] < alphas[1] < alphas[2]
            and alphas[2] - alphas[0] > 0.2
            and alphas[0] > -0.1
            and alphas[2] < 1.1
        )
        log.debug(
            "cuts: candidate %d..%d best %d+%d score %s alphas %s residual %.2f",
            recs[0].index + 1,
            recs[-1].index,
            a.index + 1,
            n,
            round(best, 3),
            [round(x, 2) for x in alphas],
            residual,
        )
        if not (growing and residual < 0.3):
            return []
        # the rest of the candidate may hold another transition
        return [
            *self._judge(recs[: i + 1]),
            Cut(a.index + 1, n, "dissolve", float(max(0.0, 1 - residual))),
            *self._judge(recs[j:]),
        ]


# --- a frame-change signal, for effects that act at cuts (interpolate, face tracking) ----------

#: Width (px) of the grey thumbnail of a :class:`FrameSignature`.
SIGNATURE_WIDTH = 128
_HELD_LEVEL = 8.0  # grey levels (of 255): a thumbnail pixel that changes more than this moved
_HELD_PIXELS = 0.0005  # ... and a frame with fewer than this share of such pixels repeats
_BLOCK, _SEARCH, _MATCH_LEVEL = 8, 5, 10.0  # block matching for the structural change


def colour_histogram(rgb: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """The 8 x 8 x 8-bin RGB histogram of a uint8 RGB thumbnail, flattened (red major) and
    normalised to sum 1, as ``dtype``."""
    hist = cv2.calcHist([rgb], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel()
    hist = hist.astype(dtype, copy=False)
    hist /= max(1.0, float(hist.sum()))
    return hist


def histogram_change(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two normalised histograms: 0 (the same colours) .. 1 (none
    shared)."""
    return 0.5 * float(np.abs(a - b).sum())


@dataclass
class FrameSignature:
    """A frame, small: what :func:`frame_change` and :func:`same_picture` compare."""

    grey: np.ndarray  # 128 px wide, float32 0..255
    blocks: np.ndarray  # 64 px wide grey, cropped to whole 8 x 8 blocks
    hist: np.ndarray  # 8x8x8 RGB histogram of the 64-px thumbnail, sums to 1
    shape: np.ndarray  # 32 x 24 grey, mean removed, unit norm (zeros when flat)


def frame_signature(image: np.ndarray) -> FrameSignature:
    """The signature of an RGB(A) frame of any dtype."""
    rgb = to_uint8(image[..., :3])
    h, w = rgb.shape[:2]
    tw = min(w, SIGNATURE_WIDTH)
    thumb = cv2.resize(rgb, (tw, max(1, round(h * tw / w))), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sh = max(_BLOCK, round(h * 64 / w))
    small = cv2.resize(thumb, (64, sh), interpolation=cv2.INTER_AREA)
    hist = colour_histogram(small)
    blocks = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blocks = blocks[: sh // _BLOCK * _BLOCK]
    shape = cv2.resize(grey, (32, 24), interpolation=cv2.INTER_AREA)
    shape -= shape.mean()
    norm = float(np.sqrt((shape * shape).sum()))
    shape = shape / norm if norm > 8.0 else np.zeros_like(shape)  # flat: no structure
    return FrameSignature(grey, blocks, hist, shape)


def same_picture(previous: FrameSignature, current: FrameSignature) -> bool:
    """Whether two frames show the same picture (up to compression noise): no pixel of the
    128-px grey thumbnails changes by more than a few levels."""
    moved = np.abs(previous.grey - current.grey) > _HELD_LEVEL
    return float(moved.mean()) < _HELD_PIXELS


def frame_change(previous: FrameSignature, current: FrameSignature) -> float:
    """0 (same) .. 1 (unrelated): how much ``current`` is another shot than ``previous``.

    A cut changes the picture's structure (1 - correlation of the small grey images, blind to
    brightness and contrast, so fades are not cuts) in a way no small motion explains (twice
    the share of 8 x 8 blocks of the 64-px thumbnail that match nothing within 5 px, so fast
    motion is not a cut); or it changes the colours (half the histogram change).
    """
    hist = histogram_change(previous.hist, current.hist)
    if not previous.shape.any() or not current.shape.any():
        return hist  # a flat frame (black, a flash): only colour says anything
    corr = float((previous.shape * current.shape).sum())
    structure = min(1.0, 1.0 - corr)
    if structure > max(hist / 2, 0.05):  # (matching can only lower it: skip when small)
        structure = min(structure, 2 * _unmatched(current.blocks, previous.blocks))
    return max(hist / 2, structure)


def _block_means(x: np.ndarray) -> np.ndarray:
    h, w = x.shape
    return x.reshape(h // _BLOCK, _BLOCK, w // _BLOCK, _BLOCK).mean(axis=(1, 3))


def _unmatched(a: np.ndarray, b: np.ndarray) -> float:
    """Share of ``a``'s 8 x 8 blocks with no match in ``b`` within +-5 px (block matching on
    mean-removed blocks: mean absolute difference above 10 grey levels at the best shift)."""
    h, w = min(a.shape[0], b.shape[0]), a.shape[1]
    a, b = a[:h], b[:h]
    ones = np.ones((_BLOCK, _BLOCK), np.float32)
    a0 = a - np.kron(_block_means(a), ones)
    r = _SEARCH
    padded = np.pad(b, r, mode="edge")
    best = np.full((h // _BLOCK, w // _BLOCK), np.inf, np.float32)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            s = padded[dy : dy + h, dx : dx + w]
            s0 = s - np.kron(_block_means(s), ones)
            best = np.minimum(best, _block_means(np.abs(a0 - s0)))
    return float((best > _MATCH_LEVEL).mean())
