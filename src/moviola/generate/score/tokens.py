"""The composer's vocabulary: durations, pitches, chord qualities, and the features the model reads.

Shared by the runtime (``composer``), the training script (``scripts/train-composer``) and the
bench, so that the three encode a note exactly the same way. numpy only.

Everything is relative to the tonic: a piece is transposed so that its tonic is C (pitch class 0)
in both modes (C major, C minor), by the smallest shift (-5..+6 semitones) so its register is kept.
A melody is a list of note events on a sixteenth-note grid, each with a duration class and a pitch
token (MIDI number after the transposition, ``PITCH_LO..PITCH_HI``) or a rest.
"""

from __future__ import annotations

import re

import numpy as np

# Duration classes, in beats (quarter notes): 16th, 8th, dotted 8th, quarter, dotted quarter,
# half, dotted half, whole.
DURATIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
GRID = 0.25
PITCH_LO, PITCH_HI = 48, 95  # after transposing the tonic to C (60 = the tonic C4)
N_PITCH = PITCH_HI - PITCH_LO + 1
REST = N_PITCH  # the rest token comes after the pitches
N_PTOK = N_PITCH + 1
METERS: tuple[int, ...] = (2, 3, 4)  # beats per bar (quarter-note beats): 2/4, 3/4, 4/4 (and 2/2)
N_POS = 16  # sixteenth positions in the longest bar
MODES: tuple[str, ...] = ("major", "minor")
STYLES: tuple[str, ...] = ("tune", "hymn")  # fiddle and folk tunes; chorale melodies

# Chord qualities and their intervals above the root.
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "sus4": (0, 5, 7),
}
QNAMES: tuple[str, ...] = tuple(QUALITIES)
N_QUAL = len(QNAMES)
N_CHORD = 12 * N_QUAL  # chord token = root * N_QUAL + quality
REMAIN_EDGES: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)  # beats left to the phrase end

# The model's input, one multi-hot vector per note: the previous note (pitch, duration), where
# this note starts (sixteenth in the bar, the meter), the chord sounding at its onset (root,
# quality, pitch classes) and the next one's pitch classes, the mode, how far the phrase end is,
# the piece's note rate (log2 notes per beat) and its style (a tune, or a chorale's melody).
F_PREV_P = 0
F_PREV_D = F_PREV_P + N_PTOK + 1  # + start token
F_POS = F_PREV_D + len(DURATIONS) + 1
F_METER = F_POS + N_POS
F_ROOT = F_METER + len(METERS)
F_QUAL = F_ROOT + 12
F_CPCS = F_QUAL + N_QUAL
F_NPCS = F_CPCS + 12
F_MODE = F_NPCS + 12
F_REMAIN = F_MODE + len(MODES)
F_RATE = F_REMAIN + len(REMAIN_EDGES) + 1
F_STYLE = F_RATE + 1
N_FEAT = F_STYLE + len(STYLES)

# Chords a melody alone can be fitted with (a 4-part texture may use every quality but sus4/aug).
MELODY_FIT = ("maj", "min", "dim")
SATB_FIT = ("maj", "min", "dim", "dom7", "maj7", "min7", "hdim7", "dim7")
# Diatonic chords of each mode (root relative to the tonic, quality): a small prior when fitting.
DIATONIC: dict[str, set[tuple[int, str]]] = {
    "major": {(0, "maj"), (2, "min"), (4, "min"), (5, "maj"), (7, "maj"), (9, "min"), (11, "dim"),
              (7, "dom7"), (2, "min7"), (0, "maj7"), (5, "maj7"), (11, "hdim7")},
    "minor": {(0, "min"), (2, "dim"), (3, "maj"), (5, "min"), (7, "maj"), (8, "maj"), (10, "maj"),
              (7, "dom7"), (11, "dim"), (11, "dim7"), (2, "hdim7"), (5, "min7"), (7, "min")},
}  # fmt: skip


def chord_token(root: int, quality: str) -> int:
    return (root % 12) * N_QUAL + QNAMES.index(quality)


def chord_of_token(token: int) -> tuple[int, str]:
    return token // N_QUAL, QNAMES[token % N_QUAL]


def chord_pcs(root: int, quality: str) -> tuple[int, ...]:
    return tuple((root + i) % 12 for i in QUALITIES[quality])


def quality_of(pcs: set[int] | frozenset[int], root: int | None = None) -> tuple[int, str] | None:
    """The (root, quality) whose pitch classes are exactly ``pcs`` (``root`` preferred), or None."""
    roots = ([root % 12] if root is not None else []) + list(range(12))
    for r in roots:
        for q, iv in QUALITIES.items():
            if {(r + i) % 12 for i in iv} == set(pcs):
                return r, q
    return None


def duration_class(beats: float) -> int:
    """Index of a duration class; -1 when ``beats`` is not one."""
    for i, d in enumerate(DURATIONS):
        if abs(d - beats) < 1e-6:
            return i
    return -1


def split_duration(beats: float) -> list[float]:
    """A length on the grid as a sum of duration classes, longest first (5 -> 4 + 1)."""
    out: list[float] = []
    left = round(beats / GRID) * GRID
    while left > 1e-9:
        d = max(x for x in DURATIONS if x <= left + 1e-9)
        out.append(d)
        left -= d
    return out


def fit_chord(
    weights: np.ndarray,
    mode: str,
    *,
    allowed: tuple[str, ...],
    bass: int | None = None,
    prev: tuple[int, str] | None = None,
) -> tuple[int, str] | None:
    """The chord (root relative to the tonic, quality) that best explains a pitch-class profile.

    ``weights``: 12 duration weights of the sounding pitch classes (relative to the tonic). Score:
    weight covered by the chord minus 0.6 x weight outside it, minus 0.15 per chord tone absent,
    0.1 per tone past three, plus small bonuses for a diatonic chord, the bass on the root, and keeping the previous chord.
    None when nothing sounds.
    """  # fmt: skip
    total = float(weights.sum())
    if total <= 0:
        return None
    w = weights / total
    best, best_score = None, -1e9
    for root in range(12):
        for q in allowed:
            pcs = [(root + i) % 12 for i in QUALITIES[q]]
            inside = float(w[pcs].sum())
            score = inside - 0.6 * (1.0 - inside) - 0.15 * sum(1 for p in pcs if w[p] == 0)
            score -= 0.1 * (len(pcs) - 3)
            if (root, q) in DIATONIC[mode]:
                score += 0.12
            if bass is not None and bass % 12 == root:
                score += 0.1
            if prev == (root, q):
                score += 0.05
            if score > best_score:
                best, best_score = (root, q), score
    return best


def remain_bucket(beats_left: float) -> int:
    for i, e in enumerate(REMAIN_EDGES):
        if beats_left <= e + 1e-9:
            return i
    return len(REMAIN_EDGES)


def features(  # noqa: PLR0913 - one argument per group of features
    prev_p: int,
    prev_d: int,
    onset: float,
    bpb: int,
    chord: tuple[int, str] | None,
    next_pcs: tuple[int, ...],
    mode: int,
    beats_left: float,
    rate: float,
    style: int = 0,
) -> np.ndarray:
    """One note's model input. ``prev_p``/``prev_d`` are -1 at the start of a phrase; ``onset``
    is in beats from a downbeat; ``rate`` is log2(notes per beat) of the piece."""  # fmt: skip
    x = np.zeros(N_FEAT, np.float32)
    x[F_PREV_P + (N_PTOK if prev_p < 0 else prev_p)] = 1
    x[F_PREV_D + (len(DURATIONS) if prev_d < 0 else prev_d)] = 1
    x[F_POS + int(round((onset % bpb) / GRID)) % N_POS] = 1
    x[F_METER + METERS.index(bpb)] = 1
    if chord is not None:
        root, q = chord
        x[F_ROOT + root % 12] = 1
        x[F_QUAL + QNAMES.index(q)] = 1
        for p in chord_pcs(root, q):
            x[F_CPCS + p] = 1
    for p in next_pcs:
        x[F_NPCS + p % 12] = 1
    x[F_MODE + mode] = 1
    x[F_REMAIN + remain_bucket(beats_left)] = 1
    x[F_RATE] = rate
    x[F_STYLE + style] = 1
    return x


def tonic_shift(tonic_pc: int) -> int:
    """Semitones that move a piece in ``tonic_pc`` to C by the smallest step (-5..+6)."""
    t = tonic_pc % 12
    return -t if t <= 6 else 12 - t


def scale_pcs(mode: str) -> frozenset[int]:
    """The pitch classes counted as in key: the scale, and the leading tone in minor."""
    return {
        "major": frozenset({0, 2, 4, 5, 7, 9, 11}),
        "minor": frozenset({0, 2, 3, 5, 7, 8, 10, 11}),
        "dorian": frozenset({0, 2, 3, 5, 7, 9, 10}),
        "mixolydian": frozenset({0, 2, 4, 5, 7, 9, 10}),
        "aeolian": frozenset({0, 2, 3, 5, 7, 8, 10}),
        "phrygian": frozenset({0, 1, 3, 5, 7, 8, 10}),
        "lydian": frozenset({0, 2, 4, 6, 7, 9, 11}),
        "ionian": frozenset({0, 2, 4, 5, 7, 9, 11}),
    }[mode]


def merge_spans(chords: list[list]) -> list[tuple[float, float, int]]:
    """Consecutive slots with the same chord token as one span: [(start, length, token)]."""
    out: list[tuple[float, float, int]] = []
    for s, n, tok in chords:
        if out and out[-1][2] == tok and abs(out[-1][0] + out[-1][1] - s) < 1e-6:
            out[-1] = (out[-1][0], out[-1][1] + n, tok)
        else:
            out.append((float(s), float(n), int(tok)))
    return out


def chord_at(spans: list[tuple[float, float, int]], t: float) -> tuple[int, int]:
    """Index of the span sounding at ``t`` (the last one started), and of the next span (-1)."""
    i = 0
    for j, (s, _, _) in enumerate(spans):
        if s <= t + 1e-6:
            i = j
    return i, (i + 1 if i + 1 < len(spans) else -1)


def segment_features(seg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A corpus segment (``scripts/train-composer``'s format) as model inputs and targets:
    features [n, N_FEAT], duration classes [n], pitch tokens [n]."""  # fmt: skip
    notes, spans = seg["notes"], merge_spans(seg["chords"])
    n = len(notes)
    sounding = sum(1 for x in notes if x[2] != REST)
    rate = float(np.log2(max(sounding, 1) / max(seg["end"] - seg["start"], GRID)))
    xs = np.zeros((n, N_FEAT), np.float32)
    prev_p, prev_d = -1, -1
    for k, (t, d, p) in enumerate(notes):
        i, j = chord_at(spans, t)
        ch = chord_of_token(spans[i][2])
        nxt = chord_pcs(*chord_of_token(spans[j][2])) if j >= 0 else ()
        xs[k] = features(
            prev_p,
            prev_d,
            t,
            seg["bpb"],
            ch,
            nxt,
            seg["mode"],
            seg["end"] - t,
            rate,
            int(seg["chorale"]),
        )
        prev_p, prev_d = p, d
    return xs, np.array([x[1] for x in notes], np.int64), np.array([x[2] for x in notes], np.int64)


# Each mode: the model mode it is sampled in, and the pitch classes (relative to the tonic) moved.
MODE_MAP: dict[str, tuple[str, dict[int, int]]] = {
    "major": ("major", {}),
    "ionian": ("major", {}),
    "minor": ("minor", {}),
    "aeolian": ("minor", {11: 10}),
    "dorian": ("minor", {8: 9, 11: 10}),
    "phrygian": ("minor", {2: 1, 11: 10}),
    "mixolydian": ("major", {11: 10}),
    "lydian": ("major", {5: 6}),
}


_ROMAN = re.compile(
    r"^([b#]?)(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(o|°|dim|\+|aug|maj7|7|sus4)?$"
)
_DEGREE = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}


def parse_roman(numeral: str, mode: str) -> tuple[int, str]:
    """A Roman numeral ("I", "vi", "V7", "bVII", "viio", "ii7") as (root above the tonic, quality)."""
    m = _ROMAN.match(numeral.strip())
    if not m:
        raise ValueError(f"unknown chord numeral {numeral!r} (say I, ii, V7, bVII, viio...)")
    acc, deg, suffix = m.groups()
    scale = (0, 2, 4, 5, 7, 9, 11) if MODE_MAP[mode][0] == "major" else (0, 2, 3, 5, 7, 8, 10)
    root = (scale[_DEGREE[deg.lower()]] + {"b": -1, "#": 1, "": 0}[acc]) % 12
    upper = deg.isupper()
    quality = {
        None: "maj" if upper else "min",
        "o": "dim", "°": "dim", "dim": "dim", "+": "aug", "aug": "aug", "sus4": "sus4",
        "maj7": "maj7", "7": "dom7" if upper else "min7",
    }[suffix]  # fmt: skip
    return root, quality


def step_like(prev: int, a: int, b: int, mode: int) -> int:
    """The pitch token a step from ``prev`` like the one from ``a`` to ``b``: the same number of
    scale degrees (a diatonic sequence), or of semitones where a note is off the scale. ``mode``:
    0 major, 1 minor."""
    scale = (0, 2, 4, 5, 7, 9, 11) if mode == 0 else (0, 2, 3, 5, 7, 8, 10)

    def degree(tok: int) -> int | None:
        octave, pc = divmod(tok + PITCH_LO, 12)
        return octave * 7 + scale.index(pc) if pc in scale else None

    da, db, dp = degree(a), degree(b), degree(prev)
    if da is None or db is None or dp is None:
        return prev + b - a
    octave, k = divmod(dp + db - da, 7)
    return octave * 12 + scale[k] - PITCH_LO
