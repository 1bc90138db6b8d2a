"""What the score listens to in the picture: hard cuts and how strong they are, and a curve of
intensity (motion and brightness), from the same analysis montage uses (one decoding pass for
thumbnails, one for the fast shot detector; one thumbnail in memory)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from moviola.generate.score.plan import Cut

RATE = 10.0  # intensity samples per second


@dataclass
class Picture:
    path: str
    duration: float
    fps: float
    cuts: list[Cut]
    intensity: np.ndarray  # RATE per second, 0..1


def _scaled(x: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(x, [5, 95]) if x.size else (0.0, 1.0)
    if hi - lo < 1e-6:
        return np.full(x.shape, 0.5)
    return np.clip((x - lo) / (hi - lo), 0, 1)


def analyse(path: str | os.PathLike) -> Picture:
    from moviola.generate.montage import analyse_clip

    clip = analyse_clip(path)
    times = np.asarray([float(t) for t in clip.times])
    duration = float(clip.duration)
    motion = clip.activity.astype(np.float64).copy()
    strengths = np.asarray([motion[c] for c in clip.cuts])
    for c in clip.cuts:  # a cut is not motion
        motion[c] = motion[c - 1] if c > 0 else 0.0
    if motion.size > 1:
        motion[0] = motion[1]
    # motion: half relative to this video's own range, half absolute (a mean change of 12 grey
    # levels a frame is as busy as it gets), so a calm film stays calm and an action one busy
    busy = np.clip(np.log1p(motion) / np.log1p(12.0), 0, 1)
    moving = 0.5 * _scaled(motion) + 0.5 * busy
    per_frame = 0.7 * moving + 0.3 * _scaled(clip.brightness.astype(np.float64))
    n = max(1, int(np.ceil(duration * RATE)))
    bins = np.minimum((times * RATE).astype(int), n - 1)
    sums = np.bincount(bins, per_frame, minlength=n)
    counts = np.bincount(bins, minlength=n)
    curve = np.interp(np.arange(n), np.flatnonzero(counts), sums[counts > 0] / counts[counts > 0])
    k = int(RATE)  # one second's smoothing
    curve = np.convolve(np.pad(curve, k, mode="edge"), np.ones(2 * k + 1) / (2 * k + 1), "same")
    curve = curve[k:-k]
    ranks = np.argsort(np.argsort(strengths)) / max(1, len(strengths) - 1)
    if len(strengths) == 1:
        ranks = np.ones(1)
    cuts = [Cut(float(times[c]), float(r)) for c, r in zip(clip.cuts, ranks, strict=True)]
    return Picture(str(path), duration, float(clip.rate), cuts, curve)
