"""The form of a score, fitted to the picture: sections, tempo, bar lines, hits and intensity.

Sections begin at the strongest cuts (at least ``MIN_SECTION`` seconds apart), so each of those
cuts is a downbeat and a change of section, exactly. Inside a section the other cuts become
sync points, as a film composer's click track makes them: the tempo is constant from one sync
point to the next, each stretch holds a whole number of beats (so the cut falls exactly on a
beat), and every stretch keeps within ``DRIFT`` (8 %) of the section's base tempo. A dynamic
programme over the cuts chooses which cuts to sync (a cut may be skipped: cuts closer than a
beat, or one that would pull the tempo too far) and the beats per stretch, scoring each synced
cut by its strength, cuts inside a stretch that land near a beat anyway, and penalties for
tempo drift; the base tempo is searched over the mood's range (24 steps), with penalties for a
last bar that is not whole, for leaving the mood's favourite tempo and for a jump from the
previous section's tempo. ``--tempo BPM`` fixes the base and allows 3 % of drift.
The piece's last downbeat (the final chord) is the last cut of the closing seconds, or comes
``ring`` seconds before the end of the video; the chord rings until the last sample. Intensity per bar is the picture's motion (mean
absolute difference of grey thumbnails) and brightness, each scaled between the video's 5th
and 95th percentiles, 0.7 and 0.3 weighted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from moviola.errors import MoviolaError

MIN_SECTION = 8.0  # seconds between section boundaries (about four bars)
HIT_QUANTILE = 0.7  # cuts at least this strong (rank among the video's cuts) get a hit


@dataclass(frozen=True)
class Cut:
    time: float  # seconds from the start of the video
    strength: float  # 0..1, the cut's rank among the video's cuts by how much the picture changes


@dataclass
class Section:
    start: float  # seconds (a strong cut, or 0)
    end: float  # seconds (the next section's start, or the final downbeat)
    beats: int
    first_beat: int  # global beat number of its first beat
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # beats + 1 beat times
    intensity: float = 0.5
    bar_intensity: list[float] = field(default_factory=list)  # one per bar (see ``bars``)
    letter: str = "A"

    def __post_init__(self) -> None:
        if self.times.size != self.beats + 1:
            self.times = np.linspace(self.start, self.end, self.beats + 1)

    @property
    def beat(self) -> float:
        """The mean beat length, seconds."""
        return (self.end - self.start) / self.beats

    @property
    def last_beat(self) -> float:
        return float(self.times[-1] - self.times[-2])

    @property
    def bpm(self) -> float:
        return 60.0 / self.beat

    @property
    def tempos(self) -> list[tuple[int, float]]:
        """(beat in the section, BPM) where the tempo changes, from its first beat."""
        lengths = np.diff(self.times)
        out: list[tuple[int, float]] = []
        for k, d in enumerate(lengths):
            if not out or abs(60 / d - out[-1][1]) > 1e-6 * out[-1][1]:
                out.append((k, float(60 / d)))
        return out

    @property
    def bars(self) -> list[int]:
        """Beats in each bar: whole 4/4 bars, the last one holding the one to three left over."""
        whole, extra = divmod(self.beats, 4)
        if whole == 0:
            return [extra]
        return [4] * (whole - 1) + [4 + extra]

    def time(self, beat: float) -> float:
        """Seconds at ``beat`` beats into this section (the tempo map: constant within each
        stretch between sync points)."""
        k = int(min(max(math.floor(beat), 0), self.beats - 1))
        return float(self.times[k] + (beat - k) * (self.times[k + 1] - self.times[k]))


@dataclass
class Plan:
    duration: float  # of the video, seconds
    final: float  # the last downbeat (the final chord), seconds
    sections: list[Section]
    cuts: list[Cut]
    hits: list[tuple[float, float]]  # (seconds, strength) of the cuts that get a hit
    fps: float

    def beat_times(self) -> np.ndarray:
        """Every beat's time (and the final downbeat)."""
        times = [s.time(k) for s in self.sections for k in range(s.beats)]
        return np.asarray([*times, self.final])

    def bar_times(self) -> np.ndarray:
        times = []
        for s in self.sections:
            beat = 0
            for n in s.bars:
                times.append(s.time(beat))
                beat += n
        return np.asarray([*times, self.final])

    def on_grid(self, lines: np.ndarray, tolerance: float | None = None) -> float:
        """Fraction of the cuts within ``tolerance`` (default one frame) of one of ``lines``."""
        if not self.cuts:
            return 1.0
        tol = (1.0 / self.fps if tolerance is None else tolerance) + 1e-9
        t = np.asarray([c.time for c in self.cuts])
        return float(np.mean(np.abs(t[:, None] - lines[None, :]).min(axis=1) <= tol))


@dataclass(frozen=True)
class Tempo:
    low: float
    high: float
    favourite: float
    fixed: bool = False


def ring_time(duration: float) -> float:
    """Seconds the final chord rings before the video ends."""
    return min(2.5, max(0.6, 0.12 * duration))


SPAN = 8  # a stretch of constant tempo skips at most this many cuts
DRIFT = 0.08  # a stretch's tempo stays within this fraction of the section's base tempo


def _chance(inner: list[Cut], t0: float, beat: float, tol: float) -> float:
    """Credit for cuts inside a stretch that land near its beats anyway."""
    total = 0.0
    for c in inner:
        pos = (c.time - t0) / beat
        err = abs(pos - round(pos)) * beat
        total += (0.5 + c.strength) * math.exp(-0.5 * (err / tol) ** 2)
    return total


def _fit(nodes: list[float], cuts: list[Cut], base: float, tol: float,
         drift_max: float = DRIFT) -> tuple[float, list[int]]:  # fmt: skip
    """Dynamic programming over the sync points: the best way to reach each cut (a beat
    exactly on it) from the section's start with whole beats per stretch, and the beats per
    stretch chosen. ``nodes``: start, the cuts, end; ``cuts``: the cuts (for their strength)."""
    k = len(nodes)
    best = [-math.inf] * k
    how: list[tuple[int, int]] = [(-1, 0)] * k
    best[0] = 0.0
    for j in range(1, k):
        reward = 0.5 + cuts[j - 1].strength if j < k - 1 else 0.0
        for i in range(j - 1, max(-1, j - 2 - SPAN), -1):
            if best[i] == -math.inf:
                continue
            length = nodes[j] - nodes[i]
            lo = max(1, math.ceil(length * base * (1 - drift_max) / 60))
            hi = math.floor(length * base * (1 + drift_max) / 60)
            for n in range(lo, hi + 1):
                drift = abs(math.log2(60 * n / length / base))
                value = best[i] + reward - 4 * drift - 0.15
                if j - i > 1:
                    value += 0.5 * _chance(cuts[i : j - 1], nodes[i], length / n, tol)
                if value > best[j]:
                    best[j], how[j] = value, (i, n)
    if best[-1] == -math.inf:
        return -math.inf, []
    path, j = [], k - 1
    while j > 0:
        i, n = how[j]
        path.append((i, j, n))
        j = i
    counts = [0] * (k - 1)
    for i, _, n in path:
        counts[i] = n  # beats from node i to node j; skipped nodes keep 0
    return best[-1], counts


def final_downbeat(duration: float, cuts: list[Cut], shortest: float) -> float:
    """Where the final chord is struck: on the last cut of the closing seconds when there is
    one (the last shot gets the ending), else ``ring_time`` before the end."""
    ring = ring_time(duration)
    late = [c.time for c in cuts if duration - max(2 * ring, 2.0) <= c.time <= duration - 0.5]
    final = late[-1] if late else duration - ring
    return max(final, shortest)


def fit_section(start: float, end: float, inner: list[Cut], tempo: Tempo, fps: float,
                previous_bpm: float | None = None) -> np.ndarray:  # fmt: skip
    """The beat times of a section from ``start`` to ``end`` (see the module notes): a base
    tempo, and stretches of constant tempo near it from one sync point (a cut that falls
    exactly on a beat) to the next."""
    nodes = [start, *(c.time for c in inner), end]
    tol = 0.5 / fps
    if tempo.fixed:
        bases = [tempo.favourite]
    else:
        bases = list(np.exp(np.linspace(np.log(tempo.low), np.log(tempo.high), 24)))
    best, chosen, counts_best = -math.inf, bases[0], []
    for base in bases:
        value, counts = _fit(nodes, inner, base, tol, 0.03 if tempo.fixed else DRIFT)
        if not counts:
            continue
        total = sum(counts)
        value -= {0: 0.0, 2: 0.25, 3: 0.5}.get(total % 4, 0.8)
        value -= 0.6 * abs(math.log2(base / tempo.favourite))
        if previous_bpm is not None:
            value -= 0.8 * abs(math.log2(base / previous_bpm))
        if value > best:
            best, chosen, counts_best = value, base, counts
    if not counts_best:  # no tempo fits (too short for the range): whole beats at the base
        n = max(1, round((end - start) * chosen / 60))
        return np.linspace(start, end, n + 1)
    times: list[float] = []
    i = 0
    while i < len(nodes) - 1:
        n = counts_best[i]
        j = i + 1
        while j < len(nodes) - 1 and counts_best[j] == 0 and n:
            j += 1  # skipped cuts: the stretch runs on to the next sync point
        times.extend(np.linspace(nodes[i], nodes[j], n + 1)[:-1].tolist())
        i = j
    times.append(end)
    return np.asarray(times)


def boundaries(cuts: list[Cut], final: float) -> list[float]:
    """Section starts: 0 and the strongest cuts, at least MIN_SECTION apart (and from the end)."""
    chosen = [0.0]
    strong = sorted((c for c in cuts if c.strength >= 0.5), key=lambda c: -c.strength)
    for cut in strong:
        points = [*chosen, final]
        if all(abs(cut.time - p) >= MIN_SECTION for p in points):
            chosen.append(cut.time)
    return sorted(chosen)


def make_plan(
    duration: float,
    fps: float,
    cuts: list[Cut],
    intensity: np.ndarray,
    intensity_rate: float,
    tempo: Tempo,
) -> Plan:
    """Fit sections, tempo and bars to a video of ``duration`` seconds with ``cuts``;
    ``intensity`` is sampled ``intensity_rate`` times a second (0..1)."""
    shortest = 4 * 60 / tempo.high
    if duration < shortest + 0.5:
        raise MoviolaError(
            f"the video is {duration:.2f} s long: shorter than a bar of music "
            f"({shortest:.2f} s at {tempo.high:g} BPM) and its ending"
        )
    cuts = [c for c in cuts if 0 < c.time < duration]
    final = final_downbeat(duration, cuts, shortest)
    starts = boundaries([c for c in cuts if c.time < final], final)
    if tempo.fixed and final not in [c.time for c in cuts]:
        # a fixed tempo keeps its word: the final downbeat moves to a whole beat of it
        beat = 60 / tempo.favourite
        n = max(1, round((final - starts[-1]) / beat))
        while n > 1 and starts[-1] + n * beat > duration - 0.25:
            n -= 1
        final = starts[-1] + n * beat
    sections: list[Section] = []
    first_beat = 0
    previous = None
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else final
        inner = [c for c in cuts if s < c.time < e]
        times = fit_section(s, e, inner, tempo, fps, previous)
        n = len(times) - 1
        section = Section(s, e, n, first_beat, times)
        first_beat += n
        previous = section.bpm
        section.bar_intensity = _bar_intensity(section, intensity, intensity_rate)
        section.intensity = float(np.mean(section.bar_intensity))
        sections.append(section)
    plan = Plan(duration, final, sections, cuts, [], fps)
    beats = plan.beat_times()
    if cuts:
        tol = 1.0 / fps + 1e-9
        for c in cuts:
            near = beats[np.argmin(np.abs(beats - c.time))]
            if c.strength >= HIT_QUANTILE and abs(near - c.time) <= tol:
                plan.hits.append((float(near), c.strength))
    _letters(sections)
    return plan


def _bar_intensity(section: Section, intensity: np.ndarray, rate: float) -> list[float]:
    out = []
    beat = 0
    for n in section.bars:
        a = int(section.time(beat) * rate)
        b = max(a + 1, int(math.ceil(section.time(beat + n) * rate)))
        piece = intensity[a:b]
        out.append(float(piece.mean()) if piece.size else 0.5)
        beat += n
    return out


def _letters(sections: list[Section]) -> None:
    """A for the first section; later ones reuse the letter of an earlier section of like
    intensity (within 0.15), else take the next letter: the form follows the picture."""
    seen: list[tuple[str, float]] = []
    for s in sections:
        match = next((letter for letter, x in seen if abs(x - s.intensity) < 0.15), None)
        if match is None:
            match = chr(ord("A") + len(seen))
            seen.append((match, s.intensity))
        s.letter = match
