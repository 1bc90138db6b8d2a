"""Mouths that speak: phonemes to visemes, visemes to smooth mouth motion, and the lips and jaw
of a 468-point face mesh moved to match, with the inside of an opened mouth painted.

Shared by ``moviola presenter`` (a photo that talks) and ``moviola lipsync`` (a filmed face
dubbed). Three steps:

1. :func:`viseme`: an IPA phoneme (espeak-ng style, one symbol) to a mouth shape,
   :class:`Viseme` (jaw opening 0..1, spread -1 (rounded) .. 1 (wide), lips pressed, lower lip
   tucked under the teeth), with a dominance: how strongly it holds its shape against its
   neighbours (p b m and f v must close whatever surrounds them; h and schwa barely matter).
2. :class:`MouthTrack`: coarticulation after Cohen and Massaro: at time t the mouth is the
   average of the phonemes' targets weighted by dominance functions that decay with the distance
   from each phoneme's centre, so neighbours blend and nothing switches in one frame; each frame
   is the mean over its own duration (no aliasing of short phonemes), and the result is
   rate-limited (at most ``MAX_STEP`` of the range per 1/25 s).
3. :class:`MouthRig`: the mesh moved to those parameters in the face's own frame (x along the
   eyes, y down, unit the distance between the outer eye corners): the lower lip and jaw drop
   to the wanted gap between the inner lips (the opening profile is round: most in the middle,
   none at the corners; the chin follows, the neck takes a little), the corners go out or in,
   pressed lips thin, f/v lift the lower lip. The gap is absolute: a portrait whose mouth is
   open in the photo is closed for m, and a filmed mouth's own motion is replaced.
   :func:`paint_mouth` paints the inside where the gap grew (dark cavity, an upper teeth band):
   a warp only stretches the lips over it.

Everything is per frame, from the phoneme list: memory does not grow with the video.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from moviola.vision.faces.landmarks import (
    FACE_OVAL,
    LEFT_EYE_OUTER,
    LIPS_INNER,
    LOWER_LIP,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    RIGHT_EYE_OUTER,
    UPPER_LIP,
)
from moviola.vision.meshwarp import delaunay, warp_face

# parameters, in order
OPEN, SPREAD, PRESS, TUCK = range(4)
PARAMS = ("open", "spread", "press", "tuck")
MAX_GAP = 0.22  # gap between the inner lips at open = 1, in eye-corner distances
MAX_STEP = 0.45  # largest change of a parameter between frames 1/25 s apart


class Timed(Protocol):
    """A phoneme with its time (``moviola.speech.voices.PhonemeTiming`` or alike)."""

    @property
    def phoneme(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True)
class Viseme:
    """A mouth shape: jaw ``open`` 0..1, ``spread`` -1 (rounded) .. 1 (wide), lips ``press`` 0..1,
    lower lip ``tuck`` (under the upper teeth) 0..1, and its ``dominance`` over neighbours."""

    open: float
    spread: float = 0.0
    press: float = 0.0
    tuck: float = 0.0
    dominance: float = 1.0

    def vector(self) -> np.ndarray:
        return np.array([self.open, self.spread, self.press, self.tuck], np.float64)


# at rest the lips meet lightly (half "pressed": a relative rig keeps a third of a smiling
# photo's own gap there)
REST = Viseme(0.0, 0.0, 0.45, 0.0, 0.6)
_PAUSE = Viseme(0.0, 0.0, 0.45, 0.0, 1.2)  # punctuation: a real pause closes the mouth
_WORD_GAP = Viseme(0.08, 0.0, 0.0, 0.0, 0.25)  # the space between words barely counts

# espeak-ng's English phonemes (one symbol each; diphthongs and affricates come as two)
_VISEMES: dict[str, Viseme] = {
    # lips closed
    "p": Viseme(0.0, 0.0, 1.0, 0.0, 4.0),
    "b": Viseme(0.0, 0.0, 1.0, 0.0, 4.0),
    "m": Viseme(0.0, 0.0, 0.9, 0.0, 4.0),
    # lower lip on the upper teeth
    "f": Viseme(0.1, 0.1, 0.0, 1.0, 3.0),
    "v": Viseme(0.1, 0.1, 0.0, 1.0, 3.0),
    # tongue between the teeth
    "θ": Viseme(0.2, 0.2, 0.0, 0.0, 1.5),
    "ð": Viseme(0.18, 0.2, 0.0, 0.0, 1.2),
    # teeth close, lips a little apart
    "s": Viseme(0.1, 0.35, 0.0, 0.0, 1.6),
    "z": Viseme(0.1, 0.35, 0.0, 0.0, 1.4),
    "ʃ": Viseme(0.16, -0.55, 0.0, 0.0, 1.8),
    "ʒ": Viseme(0.16, -0.55, 0.0, 0.0, 1.6),
    "t": Viseme(0.18, 0.15, 0.0, 0.0, 0.9),
    "d": Viseme(0.18, 0.15, 0.0, 0.0, 0.9),
    "n": Viseme(0.16, 0.1, 0.0, 0.0, 0.8),
    "l": Viseme(0.26, 0.1, 0.0, 0.0, 0.8),
    "ɾ": Viseme(0.2, 0.1, 0.0, 0.0, 0.6),
    "k": Viseme(0.24, 0.05, 0.0, 0.0, 0.7),
    "g": Viseme(0.24, 0.05, 0.0, 0.0, 0.7),
    "ɡ": Viseme(0.24, 0.05, 0.0, 0.0, 0.7),
    "ŋ": Viseme(0.2, 0.05, 0.0, 0.0, 0.7),
    "h": Viseme(0.3, 0.0, 0.0, 0.0, 0.3),
    "ʔ": Viseme(0.1, 0.0, 0.0, 0.0, 0.5),
    # rounded consonants
    "w": Viseme(0.12, -1.0, 0.0, 0.0, 2.0),
    "ɹ": Viseme(0.18, -0.45, 0.0, 0.0, 1.2),
    "r": Viseme(0.18, -0.45, 0.0, 0.0, 1.2),
    "j": Viseme(0.16, 0.45, 0.0, 0.0, 1.0),
    # open vowels
    "a": Viseme(0.95, 0.1),
    "ɑ": Viseme(1.0, 0.0),
    "æ": Viseme(0.85, 0.35),
    "ɐ": Viseme(0.7, 0.0),
    "ʌ": Viseme(0.7, 0.05),
    "ɒ": Viseme(0.85, -0.35),
    "ɔ": Viseme(0.7, -0.6),
    # mid
    "ɛ": Viseme(0.6, 0.35),
    "e": Viseme(0.45, 0.45),
    "ə": Viseme(0.4, 0.0, 0.0, 0.0, 0.5),
    "ɜ": Viseme(0.45, -0.1),
    "ɚ": Viseme(0.35, -0.35, 0.0, 0.0, 0.8),
    "o": Viseme(0.5, -0.8),
    # close
    "ɪ": Viseme(0.32, 0.4),
    "i": Viseme(0.25, 0.65),
    "ᵻ": Viseme(0.3, 0.3, 0.0, 0.0, 0.6),
    "ʊ": Viseme(0.3, -0.75),
    "u": Viseme(0.22, -1.0, 0.0, 0.0, 1.3),
    "ɨ": Viseme(0.3, 0.2),
    "y": Viseme(0.22, -0.9),
}
_PUNCTUATION = set('.,;:!?—…"()“”')
STRESS = {"ˈ": 1.0, "ˌ": 0.5}
_MARKS = {"ː", "ˈ", "ˌ", "̃", "̩", "ʲ"}  # lengthening, stress, diacritics: no shape of their own


def viseme(phoneme: str) -> Viseme:
    """The mouth shape of one phoneme (an IPA symbol; ``" "`` is a word gap, punctuation a
    pause). Unknown symbols get a half-open neutral shape of little weight."""
    if phoneme in _VISEMES:
        return _VISEMES[phoneme]
    if phoneme == " ":
        return _WORD_GAP
    if not phoneme.strip() or phoneme in _PUNCTUATION:
        return _PAUSE
    if phoneme[:1] in _VISEMES:  # "tʃ", "aɪ" given as one: the first symbol leads
        return _VISEMES[phoneme[:1]]
    return Viseme(0.3, 0.0, 0.0, 0.0, 0.4)


def _segments(phonemes: Sequence[Timed]) -> list[tuple[float, float, Viseme]]:
    """(start, end, viseme) per shaped phoneme: a length mark extends the previous one, a
    stress mark's time goes to the phoneme after it."""
    out: list[tuple[float, float, Viseme]] = []
    carry: float | None = None
    for p in phonemes:
        sym = p.phoneme
        if sym in _MARKS:
            if sym == "ː" and out:
                s, _, v = out[-1]
                out[-1] = (s, max(p.end, out[-1][1]), v)
            elif carry is None:
                carry = p.start
            continue
        start = p.start if carry is None else min(carry, p.start)
        carry = None
        out.append((start, max(p.end, start + 1e-3), viseme(sym)))
    return out


def stresses(phonemes: Sequence[Timed]) -> list[tuple[float, float]]:
    """(time, strength) of each stress mark: primary 1, secondary 0.5."""
    return [(p.start, STRESS[p.phoneme]) for p in phonemes if p.phoneme in STRESS]


class Loudness:
    """A recording's loudness over time (RMS in 10 ms hops, smoothed over 30 ms, scaled so its
    95th percentile is 1), looked up at any time."""

    HOP = 0.01

    def __init__(self, audio: np.ndarray | Iterable[np.ndarray], rate: int) -> None:
        """``audio``: mono samples, or chunks of them (a stream: only the RMS is kept)."""
        hop = max(1, round(rate * self.HOP))
        parts, rest = [], np.zeros(0, np.float64)
        for chunk in [audio] if isinstance(audio, np.ndarray) else audio:
            x = np.concatenate([rest, np.asarray(chunk, np.float64).ravel()])
            n = len(x) // hop
            parts.append(np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(1)))
            rest = x[n * hop :]
        rms = np.concatenate(parts) if parts else np.zeros(1)
        rms = np.convolve(rms, np.ones(3) / 3, mode="same")
        top = float(np.percentile(rms, 95)) if len(rms) else 0.0
        self.values = np.clip(rms / max(top, 1e-6), 0.0, 1.5)

    def __call__(self, times: np.ndarray) -> np.ndarray:
        pos = np.asarray(times, np.float64) / self.HOP - 0.5
        return np.interp(pos, np.arange(len(self.values)), self.values, left=0.0, right=0.0)


class MouthTrack:
    """Mouth parameters over time from timed phonemes (Cohen-Massaro coarticulation).

    ``track.frames(n, fps)`` gives an n x 4 array for a whole clip; ``track.at(t, dt)`` one
    frame at a time (for streams of unknown length): both mean over the frame's span.

    ``lead``: the mouth runs this much ahead of the phoneme times (lips move before the sound
    they shape; Kokoro's timings also trail its audio by about 50 ms, bench/presenter.py).
    ``loudness`` (with ``weight``): the jaw opening scaled by how loud the voice is, from
    ``1 - weight`` in silence to 1 at full voice; for recorded speech, where the phonemes'
    places inside a word are estimates, this puts the opening where the sound is."""

    SUBSAMPLES = 5

    def __init__(
        self,
        phonemes: Sequence[Timed],
        *,
        tau: float = 0.045,
        lead: float = 0.0,
        loudness: Loudness | None = None,
        weight: float = 0.5,
    ) -> None:
        self.lead = lead
        self.loudness = loudness
        self.weight = weight
        segs = _segments(phonemes)
        self.centres = np.array([(s + e) / 2 for s, e, _ in segs], np.float64)
        self.halves = np.array([(e - s) / 2 for s, e, _ in segs], np.float64)
        self.targets = np.array([v.vector() for _, _, v in segs], np.float64).reshape(-1, 4)
        self.dominance = np.array([v.dominance for _, _, v in segs], np.float64)
        self.tau = tau
        self.end = max((e for _, e, _ in segs), default=0.0)
        self._centres = self.centres.tolist()
        self._last: np.ndarray | None = None
        self._last_t: float | None = None

    def _raw(self, times: np.ndarray) -> np.ndarray:
        """Blended targets at ``times`` (len(times) x 4)."""
        out = self._blend(times + self.lead)
        if self.loudness is not None:
            gain = (1.0 - self.weight) + self.weight * np.clip(self.loudness(times), 0.0, 1.2)
            out[:, OPEN] *= gain
        return out

    def _blend(self, times: np.ndarray) -> np.ndarray:
        out = np.tile(REST.vector(), (len(times), 1))
        if not len(self.centres):
            return out
        lo = bisect.bisect_left(self._centres, float(times.min()) - 1.0)
        hi = bisect.bisect_right(self._centres, float(times.max()) + 1.0)
        # silence before and after the speech: a rest shape there
        c = self.centres[lo:hi]
        if not len(c):
            return out
        dist = np.abs(times[:, None] - c[None, :]) - self.halves[lo:hi][None, :]
        # inside its own span a phoneme has full weight; outside it decays exponentially
        # (strong shapes reach less far: a bilabial closes its own span, not its neighbours')
        dom = self.dominance[lo:hi][None, :]
        weight = dom * np.exp(-np.maximum(dist, 0.0) * np.sqrt(np.maximum(dom, 1.0)) / self.tau)
        rest_w = 0.02 + np.where(
            (times < self.centres[0] - self.halves[0]) | (times > self.end), 1.0, 0.0
        )
        total = weight.sum(1) + rest_w
        out[:] = (weight @ self.targets[lo:hi] + rest_w[:, None] * REST.vector()) / total[:, None]
        return out

    def _frame_means(self, starts: np.ndarray, dt: float) -> np.ndarray:
        k = self.SUBSAMPLES
        offsets = (np.arange(k) + 0.5) / k * dt
        times = (starts[:, None] + offsets[None, :]).ravel()
        return self._raw(times).reshape(len(starts), k, 4).mean(1)

    def frames(self, count: int, fps: float) -> np.ndarray:
        """Parameters of frames 0..count-1 at ``fps`` (count x 4), rate-limited."""
        dt = 1.0 / fps
        raw = self._frame_means(np.arange(count) * dt, dt)
        return limit_rate(raw, dt)

    def at(self, t: float, dt: float) -> np.ndarray:
        """The parameters of the frame shown from ``t`` for ``dt`` seconds (call in time
        order: the rate limit follows the previous call)."""
        value = self._frame_means(np.array([t]), dt)[0]
        if self._last is not None and self._last_t is not None and 0 < t - self._last_t < 0.5:
            step = MAX_STEP * (t - self._last_t) * 25.0
            value = self._last + np.clip(value - self._last, -step, step)
        self._last, self._last_t = value, t
        return value


def limit_rate(values: np.ndarray, dt: float) -> np.ndarray:
    """``values`` (frames x k) with each step clipped to ``MAX_STEP`` per 1/25 s."""
    out = values.copy()
    step = MAX_STEP * dt * 25.0
    for i in range(1, len(out)):
        out[i] = out[i - 1] + np.clip(out[i] - out[i - 1], -step, step)
    return out


def loudness_track(envelope: np.ndarray) -> np.ndarray:
    """The baseline mouth: opening from loudness alone (the envelope scaled to its 95th
    percentile), as frames x 4 parameters."""
    env = np.asarray(envelope, np.float64)
    top = float(np.percentile(env, 95)) if len(env) else 0.0
    out = np.zeros((len(env), 4))
    out[:, OPEN] = np.clip(env / max(top, 1e-9), 0.0, 1.0) * 0.8
    return out


def envelope(audio: np.ndarray, rate: int, count: int, fps: float) -> np.ndarray:
    """RMS loudness of ``audio`` over each of ``count`` frames at ``fps``."""
    edges = np.round(np.arange(count + 1) / fps * rate).astype(np.int64)
    sq = np.concatenate([[0.0], np.cumsum(np.asarray(audio, np.float64) ** 2)])
    edges = np.clip(edges, 0, len(audio))
    n = np.maximum(edges[1:] - edges[:-1], 1)
    return np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / n)


# --- the mesh ------------------------------------------------------------------------------------

_UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
_LOWER_INNER = [95, 88, 178, 87, 14, 317, 402, 318, 324]
_UPPER_OUTER = [185, 40, 39, 37, 0, 267, 269, 270, 409]
_LOWER_OUTER = [146, 91, 181, 84, 17, 314, 405, 321, 375]
# the two rings between them (MediaPipe's "semi" lip contours)
_UPPER_SEMI = [184, 74, 73, 72, 11, 302, 303, 304, 408, 183, 42, 41, 38, 12, 268, 271, 272, 407]
_LOWER_SEMI = [77, 90, 180, 85, 16, 315, 404, 320, 307, 96, 89, 179, 86, 15, 316, 403, 319, 325]
_CORNERS = [MOUTH_RIGHT, MOUTH_LEFT, 78, 308, 76, 306, 62, 292]
CHIN = 152
RINGS = ((1.2, 1.0), (1.45, 0.5), (1.9, 0.0))  # rings round the face: scale, share of the field


def mouth_opening(points: np.ndarray) -> float:
    """Gap between the inner lips (13 - 14) over the eye-corner distance (33 - 263)."""
    eyes = np.linalg.norm(points[RIGHT_EYE_OUTER, :2] - points[LEFT_EYE_OUTER, :2])
    return float(np.linalg.norm(points[UPPER_LIP, :2] - points[LOWER_LIP, :2]) / max(eyes, 1e-9))


class MouthRig:
    """A face mesh (468 x 2 or 3, image pixels) ready to have its mouth moved."""

    def __init__(
        self,
        mesh: np.ndarray,
        *,
        closing: float = 1.0,
        relative: bool = False,
        tris: np.ndarray | None = None,
    ) -> None:
        """``relative`` False: the gap between the lips is set absolutely (a filmed mouth's
        own motion is replaced); True: the picture's own gap is the rest, speech opens it
        further and only pressed lips (p b m) close it, by ``closing`` of it (a photo of an open
        smile squeezed fully shut smears the shadows of its corners). ``tris``: the triangles
        of an earlier rig of the same face (the mesh's topology does not change; saves the
        triangulation on video)."""
        m = np.asarray(mesh, np.float64)[:, :2]
        self.closing = closing
        self.relative = relative
        self.mesh = m
        right, left = m[RIGHT_EYE_OUTER], m[LEFT_EYE_OUTER]
        self.unit = float(np.linalg.norm(left - right))
        ex = (left - right) / max(self.unit, 1e-9)
        self.axes = np.stack([ex, np.array([-ex[1], ex[0]])])  # rows: x (eyes), y (down)
        self.origin = (m[UPPER_LIP] + m[LOWER_LIP]) / 2
        self.gap0 = mouth_opening(mesh)
        corners = self.local(m[[MOUTH_RIGHT, MOUTH_LEFT]])
        self.half_width = max(float(abs(corners[1, 0] - corners[0, 0])) / 2, 0.05)
        self.chin = float(self.local(m[[CHIN]])[0, 1])
        oval = m[FACE_OVAL[:-1]]
        centre = oval.mean(0)
        rings, shares = [], []
        for scale, share in RINGS:
            rings.append(centre + (oval - centre) * scale)
            shares.append(np.full(len(oval), share))
        self.ring = np.concatenate(rings)
        self.ring_share = np.concatenate(shares)
        self.points = np.concatenate([m, self.ring])
        self.tris = delaunay(self.points) if tris is None else tris
        side = np.zeros(len(self.points))  # +1: moves with the lower lip, -1: with the upper
        side[_LOWER_INNER + _LOWER_OUTER + _LOWER_SEMI] = 1.0
        side[_UPPER_INNER + _UPPER_OUTER + _UPPER_SEMI] = -1.0
        side[_CORNERS] = 0.0
        self.side = side

    def local(self, pts: np.ndarray) -> np.ndarray:
        """Image points in the mouth's frame: x along the eyes, y down, in eye distances."""
        return ((np.asarray(pts, np.float64) - self.origin) @ self.axes.T) / self.unit

    def displacement(self, params: np.ndarray, pts: np.ndarray, side: np.ndarray) -> np.ndarray:
        """How far (image pixels) each point moves for mouth ``params``."""
        p = np.asarray(params, np.float64)
        loc = self.local(pts)
        x, y = loc[:, 0], loc[:, 1]
        hw = self.half_width
        shut = max(p[PRESS], p[TUCK] * 0.5)
        gap = max(p[OPEN], 0.0) * MAX_GAP * (1.0 - 0.8 * shut)
        if self.relative:
            gap += self.gap0 * (1.0 - min(1.0, 1.5 * shut))
        drop = max(gap - self.gap0, -self.closing * self.gap0)  # negative: closes the mouth
        across = np.clip(np.abs(x) / hw, 0.0, 1.5)
        profile = np.sqrt(np.clip(1.0 - across**2, 0.0, 1.0))  # lips open round
        below = side > 0
        deep = np.clip(y / max(self.chin, 0.2), 0.0, 1.0)  # 0 at the lips, 1 at the chin
        lateral = np.exp(-(np.maximum(np.abs(x) - hw, 0.0) ** 2) / (0.45**2))
        neck = np.exp(-(np.maximum(y - self.chin, 0.0) ** 2) / (0.35**2))
        jaw_share = np.where(below, profile, (profile + (1 - profile) * deep) * lateral * neck)
        under = (y > 0) | below
        dy = np.where(under & (side >= 0), drop * jaw_share, 0.0)
        # the upper lip lifts a little as the mouth opens; the lower one follows the jaw
        upper = (side < 0) | ((y < 0) & (np.abs(x) < hw * 1.2) & (y > -0.35))
        lift = np.exp(-(np.minimum(y, 0.0) ** 2) / (0.15**2)) * profile
        dy = dy - np.where(upper & (side <= 0), 0.12 * max(drop, 0.0) * lift, 0.0)
        # corners: out for a wide mouth, in for a rounded one (the lips push forward)
        lip_zone = np.exp(-((x / (hw * 1.8)) ** 2) - (y / 0.25) ** 2)
        widen = 0.1 * p[SPREAD] if p[SPREAD] > 0 else 0.5 * p[SPREAD]
        dx = x * widen * lip_zone
        # rounded: the opening gets taller in the middle, pressed: the lips thin
        dy = dy + np.where(side > 0, 1, np.where(side < 0, -1, 0)) * (
            max(-p[SPREAD], 0.0) * 0.05 * profile
        )
        thin = 0.025 * p[PRESS]
        outer = np.isin(np.arange(len(pts)), _UPPER_OUTER + _LOWER_OUTER)
        dy = dy - np.where(outer, np.sign(side) * thin * profile, 0.0)
        # f, v: the lower lip rises to the upper teeth
        dy = dy - np.where(below, 0.04 * p[TUCK] * profile, 0.0)
        local = np.stack([dx, dy], 1) * self.unit
        return local @ self.axes

    def deform(self, params: np.ndarray) -> np.ndarray:
        """The mesh's points and its rings' (468 + rings x 2) moved for ``params``."""
        d = self.displacement(params, self.points, self.side)
        d[len(self.mesh) :] *= self.ring_share[:, None]
        moved = self.points + d
        return moved

    def render(
        self,
        image: np.ndarray,
        params: np.ndarray,
        *,
        mouth_rgb: np.ndarray | None = None,
        teeth_rgb: np.ndarray | None = None,
        extra: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``image`` with the mouth moved to ``params`` (and the inside painted where it
        opened): (new image, the moved mesh 468 x 2). ``extra``: a displacement (468 + rings
        x 2, pixels) added to the mouth's (blinks, brows)."""
        moved = self.deform(params)
        if extra is not None:
            moved = moved + extra
        out = image.copy()
        warped, mask, (x, y, w, h) = warp_face(
            image, self.points, moved, self.tris, image.shape[:2]
        )
        region = out[y : y + h, x : x + w]
        sel = mask > 0
        region[sel] = warped[sel]
        mesh = moved[: len(self.mesh)]
        # relative: paint only where the picture's own mouth was opened further; absolute (a
        # filmed mouth): wherever it is open, over the filmed inside the warp stretched
        grown = mouth_opening(mesh) - (self.gap0 if self.relative else 0.02)
        if grown > 0.01:
            paint_mouth(out, mesh, grown, mouth_rgb=mouth_rgb, teeth_rgb=teeth_rgb)
        return out, mesh


def mouth_colours(image: np.ndarray, mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colours for a painted mouth: the cavity (dark red, scaled to the face's brightness) and
    the teeth (the face's own where its mouth is open, else a warm white at its light level)."""
    m = np.asarray(mesh, np.float64)
    h, w = image.shape[:2]
    cheeks = np.round(m[[50, 280, 205, 425, 10, 151], :2]).astype(int)
    cheeks[:, 0] = cheeks[:, 0].clip(0, w - 1)
    cheeks[:, 1] = cheeks[:, 1].clip(0, h - 1)
    level = float(np.clip(image[cheeks[:, 1], cheeks[:, 0]].mean() / 170.0, 0.45, 1.1))
    teeth = np.clip(np.array([228.0, 222.0, 208.0]) * level, 0, 255)
    if mouth_opening(m) > 0.05:
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(m[LIPS_INNER[:-1], :2] * 16).astype(np.int32)], 255,
                     cv2.LINE_8, shift=4)  # fmt: skip
        inside = image[mask > 0][:, :3].astype(np.float64)
        if len(inside) >= 10:
            sums = inside.sum(1)
            own = inside[sums >= np.percentile(sums, 90)].mean(0)
            # only what looks like teeth (light, nearly grey): not a tongue, not a shadow
            pale = (own.max() - own.min()) / max(own.max(), 1.0) < 0.3
            if pale and own.mean() > 0.75 * teeth.mean():
                teeth = own
    return np.array([96.0, 36.0, 40.0]) * level, teeth


def paint_mouth(
    image: np.ndarray,
    mesh: np.ndarray,
    grown: float,
    *,
    mouth_rgb: np.ndarray | None = None,
    teeth_rgb: np.ndarray | None = None,
) -> None:
    """Paint, in place, the inside of the inner lips of ``mesh`` (468 x 2): a dark cavity,
    lighter at the top, with an upper teeth band; ``grown`` (how much wider than the picture's
    own mouth, in eye distances) fades it in, so a barely parted mouth keeps its own pixels."""
    strength = float(np.clip((grown - 0.01) / 0.05, 0.0, 1.0))
    if strength <= 0:
        return
    if mouth_rgb is None or teeth_rgb is None:
        mouth_rgb, teeth_rgb = mouth_colours(image, mesh)
    poly = np.asarray(mesh, np.float64)[LIPS_INNER[:-1], :2]
    h, w = image.shape[:2]
    x0, y0 = np.floor(poly.min(0)).astype(int) - 3
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 4
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 3 or y1 - y0 < 2:
        return
    local = poly - [x0, y0]
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(mask, [np.round(local * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    fill = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    fill[:] = mouth_rgb
    # lit from the front: darker towards the throat and the corners
    yy = np.linspace(0.0, 1.0, y1 - y0, dtype=np.float32)[:, None]
    xx = np.linspace(-1.0, 1.0, x1 - x0, dtype=np.float32)[None, :]
    fill *= (0.85 - 0.35 * np.abs(yy - 0.35) - 0.25 * xx**2)[..., None]
    # the tongue: a lighter, redder mound low in the mouth
    tongue = np.clip(1.0 - ((xx / 0.7) ** 2 + ((yy - 1.15) / 0.4) ** 2), 0.0, 1.0) ** 0.5
    tongue_rgb = np.asarray(mouth_rgb, np.float32) * np.array([1.4, 1.2, 1.2], np.float32)
    fill = fill * (1 - 0.6 * tongue[..., None]) + tongue_rgb * 0.6 * tongue[..., None]
    upper = local[:11]  # 78 .. 308 along the top inner lip
    gap = float(np.linalg.norm(mesh[UPPER_LIP] - mesh[LOWER_LIP]))
    eyes = float(np.linalg.norm(mesh[RIGHT_EYE_OUTER] - mesh[LEFT_EYE_OUTER]))
    depth = min(0.3 * gap, 0.06 * eyes)
    band = np.concatenate([upper, upper[::-1] + np.array([0.0, depth])])
    tmask = np.zeros_like(mask)
    cv2.fillPoly(tmask, [np.round(band * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    tmask = cv2.GaussianBlur(tmask, (0, 0), 0.8)[..., None]
    shade = (0.95 - 0.3 * xx**2)[..., None]  # teeth further back at the sides
    fill = fill * (1 - tmask) + np.asarray(teeth_rgb, np.float32) * shade * tmask
    soft = cv2.GaussianBlur(mask, (0, 0), max(0.8, gap / 10))
    alpha = (np.minimum(soft, mask) * strength)[..., None]
    region = image[y0:y1, x0:x1, :3].astype(np.float32)
    image[y0:y1, x0:x1, :3] = np.clip(fill * alpha + region * (1 - alpha), 0, 255).astype(np.uint8)
