"""Downbeats and bars from tracked beats (:mod:`moviola.generate.beats`), for cutting on the bar.

The meter is given (4 beats to the bar by default); what is found is the *phase*: which of the
beats is the first of its bar. Western popular music marks the downbeat with the kick drum
and the bass, so each beat is scored by how strongly the low frequencies start there:

1. The audio is decoded once more and fed to two onset envelopes (beats.py's spectral flux,
   the same windows and bands): the full one, and one that keeps only the mel bands under
   :data:`LOW_HZ` (kick, bass).
2. Each beat's strength in each envelope is the envelope's peak within :data:`WINDOW` seconds
   of the beat, divided by that envelope's mean peak over all beats (so both weigh alike).
3. Phase ``k`` (0 .. meter-1) scores the mean, over the beats ``k, k + meter, k + 2 meter ...``,
   of ``low + FULL_WEIGHT * full``; the best phase gives the downbeats, and the bars run from
   one downbeat to the next. ``confidence`` is the best score's lead over the second best,
   relative to the best.

Harmonic change (chords changing on the bar) is not used: the percussive cue alone is
measured in bench/montage.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from moviola.generate.beats import RATE, Beats, OnsetEnvelope
from moviola.media.pcm import decode_mono

#: Mel bands whose centre lies under this frequency (Hz) make the low-frequency envelope.
LOW_HZ = 120.0
#: Seconds either side of a beat searched for its onset peak.
WINDOW = 0.05
#: Weight of the full-band onset strength beside the low-frequency one.
FULL_WEIGHT = 0.5
METER = 4


@dataclass(frozen=True)
class Bars:
    """Downbeat times (seconds, on the beats' clock) and how they were chosen."""

    times: np.ndarray  # the first beat of each bar
    meter: int
    phase: int  # index in ``Beats.times`` of the first downbeat (0 .. meter-1)
    scores: tuple[float, ...]  # per phase
    confidence: float  # (best - second) / best, 0 when nothing tells the phases apart


def _low_envelope(rate: int = RATE) -> OnsetEnvelope:
    oe = OnsetEnvelope(rate)
    freqs = np.fft.rfftfreq(oe.n_fft, 1.0 / rate)
    centres = (oe.bands * freqs[None, :]).sum(axis=1) / np.maximum(oe.bands.sum(axis=1), 1e-9)
    oe.bands = oe.bands * (centres < LOW_HZ)[:, None].astype(np.float32)
    return oe


def beat_strengths(env: np.ndarray, fps: float, times: np.ndarray) -> np.ndarray:
    """The envelope's peak within :data:`WINDOW` s of each time, divided by their mean."""
    if len(times) == 0 or len(env) == 0:
        return np.zeros(len(times))
    half = max(1, int(round(WINDOW * fps)))
    centre = np.round(np.asarray(times) * fps).astype(int)
    peaks = np.array(
        [
            env[max(0, c - half) : max(1, min(len(env), c + half + 1))].max(initial=0.0)
            for c in centre
        ]
    )
    mean = peaks.mean()
    return peaks / mean if mean > 0 else peaks


def choose_phase(low: np.ndarray, full: np.ndarray, meter: int = METER) -> tuple[int, list[float]]:
    """The phase whose beats carry the most ``low + FULL_WEIGHT * full``, and every phase's
    score (phases without beats score 0)."""
    strength = np.asarray(low) + FULL_WEIGHT * np.asarray(full)
    scores = [
        float(strength[k::meter].mean()) if len(strength[k::meter]) else 0.0 for k in range(meter)
    ]
    return int(np.argmax(scores)), scores


def find_bars(
    path: str | os.PathLike,
    beats: Beats,
    *,
    meter: int = METER,
    stream_index: int | None = None,
) -> Bars:
    """The downbeats of ``beats`` (tracked from ``path``'s audio) in a meter of ``meter``."""
    times = np.asarray(beats.times, np.float64)
    if meter < 1:
        raise ValueError("meter must be at least 1")
    if len(times) < 2 * meter or meter == 1:
        return Bars(times[::meter], meter, 0, (0.0,) * meter, 0.0)
    full, low = OnsetEnvelope(RATE), _low_envelope(RATE)
    for chunk in decode_mono(path, RATE, stream_index):
        full.feed(chunk)
        low.feed(chunk)
    fps = RATE / full.hop
    # beat times are on the envelope's clock (plus ONSET_BIAS, well inside WINDOW)
    phase, scores = choose_phase(
        beat_strengths(low.finish(), fps, times), beat_strengths(full.finish(), fps, times), meter
    )
    ranked = sorted(scores, reverse=True)
    confidence = (ranked[0] - ranked[1]) / ranked[0] if ranked[0] > 0 else 0.0
    return Bars(times[phase::meter], meter, phase, tuple(scores), float(confidence))


def steady_grid(duration: float, bpm: float) -> np.ndarray:
    """Beat times every ``60 / bpm`` s from 0 up to ``duration`` (the fallback of a track in
    which no beat is found)."""
    period = 60.0 / bpm
    return np.arange(0.0, max(duration, 0.0), period)


def drum_track(
    seconds: float,
    bpm: float,
    *,
    first: float = 0.5,
    downbeat: int = 0,
    meter: int = METER,
    backbeat: bool = False,
    rate: int = 44100,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic drum loop with a known downbeat, for tests and bench/montage.py: a hi-hat
    (a 30 ms noise burst) on every beat from ``first`` s, a kick (a 120 to 45 Hz sweep) on the
    beats ``downbeat, downbeat + meter, ...``, and with ``backbeat`` a snare (noise and 190 Hz)
    on every second beat after it (2 and 4 in 4/4). Returns (mono float32 samples, beat times, downbeat
    times)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    out = np.zeros(n, np.float32)
    beats = np.arange(first, seconds - 0.3, 60.0 / bpm)

    def add(at: float, sound: np.ndarray) -> None:
        i = int(round(at * rate))
        m = min(len(sound), n - i)
        if m > 0:
            out[i : i + m] += sound[:m]

    t = np.arange(int(0.35 * rate)) / rate
    freq = 45.0 + 75.0 * np.exp(-t / 0.04)
    kick = (0.8 * np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t / 0.12)).astype(np.float32)
    th = t[: int(0.03 * rate)]
    noise = rng.standard_normal(len(th) + 1)
    hat = (0.2 * np.diff(noise) * np.exp(-th / 0.008)).astype(np.float32)
    ts = t[: int(0.2 * rate)]
    snare = 0.3 * (0.6 * rng.standard_normal(len(ts)) + np.sin(2 * np.pi * 190 * ts))
    snare = (snare * np.exp(-ts / 0.05)).astype(np.float32)
    for i, b in enumerate(beats):
        add(b, hat)
        pos = (i - downbeat) % meter
        if pos == 0:
            add(b, kick)
        elif backbeat and pos % 2 == 1:
            add(b, snare)
    downs = beats[downbeat % meter :: meter]
    return np.clip(out, -1, 1), beats, downs
