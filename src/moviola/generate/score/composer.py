"""A learned composer: chord progressions and melodies over them, trained on public-domain music.

Two small models, trained by ``scripts/train-composer`` on music21's corpus (the Bach chorales, and
the fiddle tunes of Ryan's Mammoth Collection and O'Neill's Music of Ireland) and shipped as
``composer.npz``; inference here is numpy only (docs/composer.md has the method and the figures):

- harmony: a trigram of chords per mode (one chord per half bar, per bar in 3/4), smoothed by
  interpolated absolute discounting, sampled with the cadence forced at the phrase end;
- melody: a GRU over note events (pitch relative to the tonic, duration class) that reads, for each
  note, the chord at its onset and the next chord, its position in the bar, the mode, how far the
  phrase end is and the wanted note rate.

The models know major and minor; the other modes are those with their pitch classes moved
(``MODE_MAP``: dorian is minor with a major sixth and a minor seventh, mixolydian is major with a
minor seventh, and so on). Meters: 2, 3 or 4 quarter-note beats a bar.

>>> import numpy as np
>>> p = compose_phrase(4, tonic=2, mode="major", rng=np.random.default_rng(1))
>>> sum(n.length for n in p.melody) <= 16
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from moviola.generate.score import tokens as T

WEIGHTS = Path(__file__).with_name("composer.npz")
CADENCES = ("authentic", "half", "none")
MODE_MAP = T.MODE_MAP
ECHO_BONUS = 4.0  # logit bonus of the pitch that repeats an echoed bar's interval
DENSITY_GAIN = 2.0  # duration-logit bias per unit of density away from 0.5, per octave of length
_BOS, _EOS = T.N_CHORD, T.N_CHORD + 1
_D = 0.75  # absolute discount of the chord trigram


@dataclass(frozen=True)
class Chord:
    """One harmony span; ``root`` and ``pitches`` are absolute pitch classes (0 = C)."""

    start: float
    length: float
    root: int
    quality: str  # one of tokens.QUALITIES: maj min dim aug dom7 maj7 min7 hdim7 dim7 sus4
    pitches: tuple[int, ...]


@dataclass(frozen=True)
class Note:
    start: float
    length: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Phrase:
    chords: list[Chord]
    melody: list[Note]
    bars: int
    beats_per_bar: int
    tonic: int = 0
    mode: str = "major"
    register: tuple[int, int] = (60, 84)
    density: tuple[float, ...] = field(default=(0.5,))
    style: str = "tune"


class _Model:
    """The shipped arrays, as float32, and the chord trigram as lookup tables."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as z:
            a = {k: z[k] for k in z.files}
        self.meta: dict = json.loads(a.pop("meta").tobytes().decode())
        rows = a.pop("chord_ngram").astype(np.int64)
        w = {k: v.astype(np.float32) for k, v in a.items()}
        self.wih, self.whh, self.bih, self.bhh = (
            w["gru_wih"],
            w["gru_whh"],
            w["gru_bih"],
            w["gru_bhh"],
        )
        self.dur_w, self.dur_b = w["dur_w"], w["dur_b"]
        self.pitch_w, self.pitch_b, self.pitch_dur = w["pitch_w"], w["pitch_b"], w["pitch_dur"]
        self.hidden = self.whh.shape[1]
        v = T.N_CHORD + 2
        tables = 2 * len(T.STYLES)  # mode * 2 + style
        self.tri: list[dict[tuple[int, int], np.ndarray]] = [{} for _ in range(tables)]
        self.bi = np.zeros((tables, v, v))
        self.uni = np.zeros((tables, v))
        for m, x, y, z_, c in rows:
            self.tri[m].setdefault((int(x), int(y)), np.zeros(v))[z_] += c
            self.bi[m, y, z_] += c
            self.uni[m, z_] += c

    def step(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """One GRU step (PyTorch's equations and gate order r, z, n)."""
        gi = self.wih @ x + self.bih
        gh = self.whh @ h + self.bhh
        n = self.hidden
        r = _sigmoid(gi[:n] + gh[:n])
        z = _sigmoid(gi[n : 2 * n] + gh[n : 2 * n])
        c = np.tanh(gi[2 * n :] + r * gh[2 * n :])
        return (1 - z) * c + z * h

    def dur_logits(self, h: np.ndarray) -> np.ndarray:
        return self.dur_w @ h + self.dur_b

    def pitch_logits(self, h: np.ndarray, d: int) -> np.ndarray:
        return self.pitch_w @ h + self.pitch_b + self.pitch_dur[d]

    def chord_probs(self, table: int, a: int, b: int) -> np.ndarray:
        """p(next chord | the two before) over chords and EOS (never BOS); table = mode * 2 + style."""
        uni = self.uni[table] + 0.05
        uni[_BOS] = 0
        p = uni / uni.sum()
        for counts in (self.bi[table, b], self.tri[table].get((a, b))):
            if counts is None or counts.sum() == 0:
                continue
            tot = counts.sum()
            p = np.maximum(counts - _D, 0) / tot + _D * np.count_nonzero(counts) / tot * p
        return p


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@cache
def _model() -> _Model:
    return _Model(WEIGHTS)


def model_info() -> dict:
    """Parameters, training corpus and held-out figures of the shipped weights."""
    m = _model()
    info = dict(m.meta)
    info["chord_trigrams"] = int(sum(len(t) for t in m.tri))
    info["weights"] = str(WEIGHTS.name)
    info["weights_bytes"] = WEIGHTS.stat().st_size
    return info


# ---------------------------------------------------------------- harmony

parse_roman = T.parse_roman


def _sample(p: np.ndarray, rng: np.random.Generator) -> int:
    c = np.cumsum(p)
    return int(min(np.searchsorted(c, rng.random() * c[-1], side="right"), len(p) - 1))


def _progression(
    n: int,
    mode: int,
    style: int,
    cadence: str,
    rng: np.random.Generator,
    temperature: float,
    start: tuple[int, str] | None,
) -> list[int]:
    """``n`` chord tokens from the trigram, the cadence forced on the last one or two."""  # fmt: skip
    m = _model()
    tonic = T.chord_token(0, "maj" if mode == 0 else "min")
    ends = {
        "authentic": [tonic],
        "half": [T.chord_token(7, "maj"), T.chord_token(7, "dom7")],
        "none": list(range(T.N_CHORD)),
    }[cadence]
    dominants = [T.chord_token(7, q) for q in ("maj", "dom7")] + [
        T.chord_token(11, q) for q in ("dim", "dim7")
    ]

    def probs(a: int, b: int) -> np.ndarray:
        q = m.chord_probs(table, a, b)
        q[_EOS] = 0
        with np.errstate(divide="ignore"):
            lg = np.log(q) / temperature
        return np.exp(lg - lg.max())  # p ** (1 / temperature), scaled so that nothing underflows

    table = mode * 2 + style
    openings = [tonic, T.chord_token(9, "min"), T.chord_token(5, "maj")]
    if mode == 1:
        openings = [tonic, T.chord_token(8, "maj"), T.chord_token(5, "min")]
    seq = [_BOS, _BOS]
    for i in range(n):
        a, b = seq[-2], seq[-1]
        if i == 0 and start is not None:
            seq.append(T.chord_token(*start))
            continue
        p = probs(a, b)
        if i == 0 and n > 1:  # open on the tonic, its relative or the subdominant (I, vi, IV)
            p = p * np.isin(np.arange(len(p)), openings)
        if i == n - 1:
            mask = np.zeros_like(p)
            mask[ends] = 1
            eos = np.array([m.chord_probs(table, b, c)[_EOS] for c in range(len(p))])
            p = p * mask * (eos + 1e-3)
        elif i == n - 2 and cadence != "none":
            if cadence == "authentic":
                mask = np.zeros_like(p)
                mask[dominants] = 1
                p = p * mask
            look = np.array(
                [m.chord_probs(table, b, c)[ends].sum() if p[c] > 0 else 0 for c in range(len(p))]
            )
            p = p * look
        if p.sum() <= 0:
            p = probs(a, b) if i < n - 1 else np.isin(np.arange(len(p)), ends).astype(float)
        seq.append(_sample(p, rng))
    return seq[2:]


# ---------------------------------------------------------------- melody


def _offset(tonic: int, register: tuple[int, int]) -> int:
    """Semitones from the model's space (tonic C, melodies centred near G4) to the output."""
    centre = (register[0] + register[1]) / 2
    base = tonic % 12
    return base + 12 * round((centre - 67 - base) / 12)


def _pitch_table(tonic: int, mode: str, register: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Output MIDI pitch of each pitch token (modal alterations applied), and which fit the register."""
    pcmap = MODE_MAP[mode][1]
    rel = range(T.PITCH_LO, T.PITCH_HI + 1)
    moved = np.array([r + pcmap.get(r % 12, r % 12) - r % 12 for r in rel])
    midi = moved + _offset(tonic, register)
    ok = (midi >= register[0]) & (midi <= register[1])
    return midi, np.append(ok, True)  # the rest token always fits


def _velocity(t: float, bpb: int) -> int:
    pos = t % bpb
    if pos < 1e-6:
        return 96
    if abs(pos - round(pos)) < 1e-6:
        return 84 if (bpb == 4 and abs(pos - 2) < 1e-6) else 76
    return 66


@dataclass
class _Ctx:
    """What the melody sampler needs, in the model's space."""

    bpb: int
    mode: int
    style: int
    total: float
    spans: list[tuple[float, float, int]]  # (start, length, chord token relative to the tonic)
    density: tuple[float, ...]
    ok: np.ndarray  # pitch tokens inside the register (and the rest)
    end_len: float = T.GRID  # the shortest last note

    def dens(self, t: float) -> float:
        return self.density[min(int(t // self.bpb), len(self.density) - 1)]

    def x(self, prev_p: int, prev_d: int, t: float) -> np.ndarray:
        i, j = T.chord_at(self.spans, t)
        ch = T.chord_of_token(self.spans[i][2])
        nxt = T.chord_pcs(*T.chord_of_token(self.spans[j][2])) if j >= 0 else ()
        q = _model().meta["rate_quantiles"]
        d = self.dens(t)
        rate = q[0] + (q[2] - q[0]) * d
        return T.features(
            prev_p, prev_d, t, self.bpb, ch, nxt, self.mode, self.total - t, rate, self.style
        )

    def dur_logits(self, h: np.ndarray, t: float, temperature: float) -> np.ndarray:
        lg = _model().dur_logits(h) / temperature
        lg = lg - DENSITY_GAIN * (self.dens(t) - 0.5) * np.log2(np.array(T.DURATIONS))
        dur = np.array(T.DURATIONS)
        after = self.total - t - dur
        fits = after >= -1e-9
        # a cadence's last note lasts a beat or more: no shorter note ends the phrase
        ok = fits & (
            (after >= self.end_len - 1e-9) | ((after <= 1e-9) & (dur >= self.end_len - 1e-9))
        )
        lg[~(ok if ok.any() else fits)] = -np.inf
        return lg


def _softmax_sample(logits: np.ndarray, rng: np.random.Generator) -> int:
    p = np.exp(logits - logits.max())
    return _sample(p, rng)


def _pitch_choice(  # noqa: PLR0913 - the sampling context, and what constrains this note
    ctx: _Ctx,
    h: np.ndarray,
    d: int,
    t: float,
    temperature: float,
    rng: np.random.Generator,
    *,
    first: bool,
    last: bool,
    cadence: str,
    avoid: int = -1,
    echo: int = -1,
) -> int:
    """Sample a pitch token; no rest first or last, a chord tone last when there is a cadence."""  # fmt: skip
    lg = _model().pitch_logits(h, d) / temperature
    allowed = ctx.ok.copy()
    if first or last:
        allowed[T.REST] = False
    if last and cadence != "none":
        pcs = set(T.chord_pcs(*T.chord_of_token(ctx.spans[T.chord_at(ctx.spans, t)[0]][2])))
        allowed[: T.N_PITCH] &= np.isin((np.arange(T.N_PITCH) + T.PITCH_LO) % 12, list(pcs))
    if 0 <= avoid < len(allowed) and allowed.sum() > 1:
        allowed[avoid] = False
    if not allowed.any():
        allowed = ctx.ok.copy()
    if 0 <= echo < T.N_PITCH:
        lg[echo] += ECHO_BONUS
    lg = np.where(allowed, lg, -np.inf)
    return _softmax_sample(lg, rng)


def _echo_source(
    out: list[tuple[float, int, int]], bar: int, bpb: int
) -> list[tuple[int, int]] | None:
    """The notes (duration, pitch token) of bar ``bar`` when they fill it exactly, else None."""
    notes = [(t, d, p) for t, d, p in out if bar * bpb - 1e-9 <= t < (bar + 1) * bpb - 1e-9]
    if (
        len(notes) < 2
        or abs(notes[0][0] - bar * bpb) > 1e-9
        or all(p == T.REST for _, _, p in notes)
    ):
        return None
    if abs(notes[-1][0] + T.DURATIONS[notes[-1][1]] - (bar + 1) * bpb) > 1e-9:
        return None
    return [(d, p) for _, d, p in notes]


def _melody(
    ctx: _Ctx, rng: np.random.Generator, temperature: float, cadence: str, motif: float
) -> list[tuple[float, int, int]]:
    """Sample the melody. With probability ``motif`` a bar (not the first or the last) echoes
    the bar one or two before: its rhythm exactly, and its intervals as a strong preference that
    the model (reading the new chord) may overrule: repetition and sequence, as tunes do."""
    m = _model()
    h = np.zeros(m.hidden, np.float32)
    t, prev_p, prev_d = 0.0, -1, -1
    out: list[tuple[float, int, int]] = []
    bars = round(ctx.total / ctx.bpb)
    echo: list[tuple[int, int]] = []
    src_prev = -1
    while t < ctx.total - 1e-9:
        bar = int(t // ctx.bpb + 1e-9)
        if abs(t - bar * ctx.bpb) < 1e-9 and 0 < bar < bars - 1 and rng.random() < motif:
            u = rng.random()
            j = bar - 4 if bar >= 4 and u < 0.5 else bar - 2 if bar >= 2 and u < 0.8 else bar - 1
            echo = _echo_source(out, j, ctx.bpb) or []
            before = [p for tt, _, p in out if tt < j * ctx.bpb - 1e-9]
            src_prev = before[-1] if before else -1
        h = m.step(ctx.x(prev_p, prev_d, t), h)
        if echo:
            d, src = echo.pop(0)
            target = -1
            if src != T.REST and src_prev not in (-1, T.REST) and prev_p not in (-1, T.REST):
                target = T.step_like(prev_p, src_prev, src, ctx.mode)
            src_prev = src if src != T.REST else src_prev
        else:
            d, src, target = _softmax_sample(ctx.dur_logits(h, t, temperature), rng), -1, -1
        last = t + T.DURATIONS[d] >= ctx.total - 1e-9
        if src == T.REST:
            p = T.REST
        else:
            p = _pitch_choice(
                ctx,
                h,
                d,
                t,
                temperature,
                rng,
                first=not out,
                last=last,
                cadence=cadence,
                echo=target,
            )
        out.append((t, d, p))
        t += T.DURATIONS[d]
        prev_p, prev_d = p, d
    return out


def _notes(events: list[tuple[float, int, int]], midi: np.ndarray, bpb: int) -> list[Note]:
    return [
        Note(start=t, length=T.DURATIONS[d], pitch=int(midi[p]), velocity=_velocity(t, bpb))
        for t, d, p in events
        if p != T.REST
    ]


def _check(
    bars: int, bpb: int, mode: str, register: tuple[int, int], cadence: str, temperature: float
) -> None:
    if bars < 1:
        raise ValueError(f"bars must be at least 1, not {bars}")
    if bpb not in T.METERS:
        raise ValueError(f"beats_per_bar must be one of {T.METERS}, not {bpb}")
    if mode not in MODE_MAP:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODE_MAP)}")
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be one of {CADENCES}, not {cadence!r}")
    if not register[0] + 7 <= register[1]:
        raise ValueError(f"register {register} is narrower than a fifth")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, not {temperature}")


def _densities(density: float | Sequence[float], bars: int) -> tuple[float, ...]:
    d = [float(density)] if isinstance(density, (int, float)) else [float(x) for x in density]
    if not d or (len(d) != 1 and len(d) != bars) or not all(0 <= x <= 1 for x in d):
        raise ValueError("density is a number in 0..1, or one such number per bar")
    return tuple(d * bars if len(d) == 1 else d)


def _chord_objects(
    tokens: list[int], slot: float, total: float, tonic: int, mode: str
) -> list[Chord]:
    pcmap = MODE_MAP[mode][1]
    out: list[Chord] = []
    for i, tok in enumerate(tokens):
        root, q = T.chord_of_token(tok)
        pcs = [pcmap.get(p, p) for p in T.chord_pcs(root, q)]
        fit = T.quality_of(frozenset(pcs), pcmap.get(root, root))
        if fit is not None:
            root, q = fit
        else:
            root = pcmap.get(root, root)
        start = i * slot
        length = min(slot, total - start)
        absolute = (
            tuple((p + tonic) % 12 for p in T.chord_pcs(root, q))
            if fit
            else tuple((p + tonic) % 12 for p in pcs)
        )
        c = Chord(start, length, (root + tonic) % 12, q, absolute)
        if out and (out[-1].root, out[-1].quality) == (c.root, c.quality):
            out[-1] = replace(out[-1], length=out[-1].length + length)
        else:
            out.append(c)
    return out


def _spans(chords: list[Chord], tonic: int, mode: str) -> list[tuple[float, float, int]]:
    """Given chords in the model's space: relative to the tonic, modal alterations undone."""
    back = {v: k for k, v in MODE_MAP[mode][1].items()}
    spans = []
    for c in sorted(chords, key=lambda c: c.start):
        pcs = frozenset(back.get((p - tonic) % 12, (p - tonic) % 12) for p in c.pitches)
        root = back.get((c.root - tonic) % 12, (c.root - tonic) % 12)
        fit = T.quality_of(pcs, root) if pcs else None
        if fit is None:
            fit = (root, c.quality if c.quality in T.QUALITIES else "maj")
        spans.append((float(c.start), float(c.length), T.chord_token(*fit)))
    if not spans:
        raise ValueError("chords is empty")
    return spans


def compose_phrase(  # noqa: PLR0913 - the arranger's controls, all keyword-only
    bars: int,
    *,
    tonic: int,
    mode: str,
    rng: np.random.Generator,
    beats_per_bar: int = 4,
    density: float | Sequence[float] = 0.5,
    register: tuple[int, int] = (60, 84),
    cadence: str = "authentic",
    temperature: float = 1.0,
    chords: list[Chord] | None = None,
    start_chord: str | None = None,
    chord_beats: float | None = None,
    style: str = "tune",
    motif: float = 0.5,
) -> Phrase:
    """A phrase of ``bars`` bars: a chord progression (or ``chords``) and a melody over it.

    ``tonic`` is a pitch class (0 = C), ``mode`` one of ``MODE_MAP``; ``density`` (0..1, or one
    value per bar) steers the note rate; the melody stays inside ``register`` (MIDI numbers);
    ``cadence`` ends the progression on I (authentic, after V or vii°), on V (half) or anywhere
    (none), and the last note on a chord tone; ``start_chord`` is a Roman numeral ("I", "vi");
    ``chord_beats`` is the harmonic rhythm (default: half a bar in 2/4 and 4/4, a bar in 3/4);
    ``style`` is "tune" (learned from the fiddle tunes) or "hymn" (from the chorales); ``motif``
    is the chance that a bar echoes the rhythm and intervals of the bar one or two before.
    Every note ends by ``bars * beats_per_bar``; the result depends only on ``rng``'s state.
    """  # fmt: skip
    _check(bars, beats_per_bar, mode, register, cadence, temperature)
    dens = _densities(density, bars)
    if not 0 <= motif <= 1:
        raise ValueError(f"motif must be in 0..1, not {motif}")
    if style not in T.STYLES:
        raise ValueError(f"style must be one of {T.STYLES}, not {style!r}")
    style_i = T.STYLES.index(style)
    total = float(bars * beats_per_bar)
    base = MODE_MAP[mode][0]
    mode_i = T.MODES.index(base)
    if chords is None:
        slot = float(chord_beats or (3 if beats_per_bar == 3 else 2))
        n = math.ceil(total / slot - 1e-9)
        start = parse_roman(start_chord, mode) if start_chord else None
        if start is not None:
            back = {v: k for k, v in MODE_MAP[mode][1].items()}
            start = (
                T.quality_of(frozenset(back.get(p, p) for p in T.chord_pcs(*start)), start[0])
                or start
            )
        toks = _progression(n, mode_i, style_i, cadence, rng, temperature, start)
        chords = _chord_objects(toks, slot, total, tonic % 12, mode)
    spans = _spans(chords, tonic % 12, mode)
    midi, ok = _pitch_table(tonic, mode, register)
    ctx = _Ctx(
        beats_per_bar, mode_i, style_i, total, spans, dens, ok, 1.0 if cadence != "none" else T.GRID
    )
    events = _melody(ctx, rng, temperature, cadence, motif)
    melody = _notes(events, midi, beats_per_bar)
    return Phrase(
        list(chords), melody, bars, beats_per_bar, tonic % 12, mode, register, dens, style
    )


def variation(
    phrase: Phrase, *, rng: np.random.Generator, amount: float, temperature: float = 1.0
) -> Phrase:
    """The same chords and rhythm with a share ``amount`` (0..1) of the inner notes re-sampled."""
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be in 0..1, not {amount}")
    m = _model()
    base = MODE_MAP[phrase.mode][0]
    spans = _spans(phrase.chords, phrase.tonic, phrase.mode)
    midi, ok = _pitch_table(phrase.tonic, phrase.mode, phrase.register)
    total = float(phrase.bars * phrase.beats_per_bar)
    ctx = _Ctx(
        phrase.beats_per_bar,
        T.MODES.index(base),
        T.STYLES.index(phrase.style),
        total,
        spans,
        phrase.density,
        ok,
    )
    token = {int(v): i for i, v in enumerate(midi)}
    # the melody as events again, rests where nothing sounds
    events: list[tuple[float, int, int]] = []
    t = 0.0
    for note in phrase.melody:
        if note.start > t + 1e-9:
            events += [(t + sum(x for x in T.split_duration(note.start - t)[:k]), T.duration_class(d), T.REST)
                       for k, d in enumerate(T.split_duration(note.start - t))]  # fmt: skip
        events.append((note.start, T.duration_class(note.length), token.get(note.pitch, T.REST)))
        t = note.start + note.length
    out: list[tuple[float, int, int]] = []
    h = np.zeros(m.hidden, np.float32)
    prev_p, prev_d = -1, -1
    inner = [k for k, e in enumerate(events) if e[2] != T.REST][1:-1]
    for k, (t, d, p) in enumerate(events):
        h = m.step(ctx.x(prev_p, prev_d, t), h)
        if k in inner and rng.random() < amount:
            p = _pitch_choice(  # first=True: no rest, a note stays a note
                ctx, h, d, t, temperature, rng, first=True, last=False, cadence="none", avoid=p
            )
        out.append((t, d, p))
        prev_p, prev_d = p, d
    notes = _notes(out, midi, phrase.beats_per_bar)
    return replace(
        phrase,
        melody=[replace(n, velocity=o.velocity) for n, o in zip(notes, phrase.melody, strict=True)],
    )
