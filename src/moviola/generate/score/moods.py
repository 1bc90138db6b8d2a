"""Moods (key, mode, tempo) and styles (General MIDI instruments per role), the score's palette.

Programs are General MIDI numbers (0-based) as FluidR3_GM has them; drum kits are its bank-128
presets. Every instrument named here is in FluidR3_GM (the soundfont holds all 128 GM melodic
programs and these kits: Standard 0, Room 8, Power 16, Electronic 24, TR-808 25, Jazz 32,
Brush 40, Orchestra 48).
"""

from __future__ import annotations

from dataclasses import dataclass

from moviola.errors import MoviolaError

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class Mood:
    name: str
    mode: str  # the composer's mode: major, minor, dorian, mixolydian
    tonics: tuple[int, ...]  # pitch classes the seed chooses from
    tempo: tuple[float, float, float]  # lowest, highest, favourite BPM
    style: str  # the default style
    loudness: float  # 0..1, how hard it plays at full intensity
    temperature: float  # the composer's sampling temperature
    description: str
    energy: float = 0.0  # added to the picture's intensity (clipped to 0..1)
    phrasing: str = "tune"  # the composer's style: "tune" (fiddle tunes) or "hymn" (chorales)
    chord_beats: float = 2.0  # harmonic rhythm: beats per chord


MOODS = {
    m.name: m
    for m in (
        Mood(
            "calm",
            "major",
            (5, 0, 7, 2),
            (62, 92, 74),
            "piano",
            0.55,
            0.9,
            "unhurried, warm",
            -0.1,
            "hymn",
            4.0,
        ),
        Mood(
            "happy",
            "major",
            (7, 2, 9, 0),
            (100, 138, 118),
            "band",
            0.8,
            1.0,
            "bright, bouncy",
            0.15,
        ),
        Mood(
            "sad",
            "minor",
            (2, 9, 4),
            (54, 80, 64),
            "strings",
            0.55,
            0.85,
            "slow, minor",
            -0.1,
            "hymn",
            4.0,
        ),
        Mood(
            "tense", "minor", (4, 1, 6, 11), (90, 132, 110), "orchestral", 0.8, 1.0, "pulsing", 0.2
        ),
        Mood(
            "epic",
            "minor",
            (2, 0, 7),
            (76, 112, 90),
            "orchestral",
            1.0,
            0.9,
            "big, brassy",
            0.25,
            "hymn",
            4.0,
        ),
        Mood("dreamy", "mixolydian", (5, 3, 10), (60, 90, 72), "electronic", 0.5, 1.0, "floating"),
        Mood(
            "mysterious",
            "dorian",
            (2, 9, 4),
            (66, 100, 80),
            "strings",
            0.6,
            1.0,
            "modal",
            0.0,
            "hymn",
        ),
    )
}


@dataclass(frozen=True)
class Voice:
    program: int  # GM program (0-based)
    low: int  # lowest MIDI note it plays here
    high: int
    level: float  # relative velocity (balances the soundfont's instruments)


@dataclass(frozen=True)
class Style:
    name: str
    melody: Voice
    counter: Voice  # doubles the melody an octave down at high intensity
    pad: Voice  # sustained chords
    arp: Voice  # broken chords
    bass: Voice
    kit: int | None  # drum kit (bank 128 preset), None: no kit
    timpani: bool  # orchestral percussion
    stab: Voice  # the chord struck on a hit
    description: str


STYLES = {
    s.name: s
    for s in (
        Style(
            "piano",
            Voice(0, 60, 84, 0.9),
            Voice(42, 48, 67, 0.7),
            Voice(48, 52, 72, 0.55),
            Voice(0, 48, 79, 0.6),
            Voice(32, 31, 52, 0.85),
            40,
            False,
            Voice(0, 48, 79, 1.0),
            "grand piano over strings, acoustic bass, brushes",
        ),
        Style(
            "strings",
            Voice(40, 62, 88, 0.85),
            Voice(42, 45, 67, 0.8),
            Voice(49, 50, 74, 0.6),
            Voice(45, 48, 79, 0.7),
            Voice(43, 28, 50, 0.85),
            None,
            True,
            Voice(48, 43, 79, 1.0),
            "violin and cello over a string section, pizzicato, contrabass, timpani",
        ),
        Style(
            "orchestral",
            Voice(60, 55, 79, 0.95),
            Voice(57, 43, 65, 0.75),
            Voice(48, 48, 74, 0.6),
            Voice(48, 48, 76, 0.6),
            Voice(43, 28, 50, 0.9),
            48,
            True,
            Voice(61, 48, 76, 1.0),
            "horn melody, trombones, strings ostinato, contrabass, timpani, orchestra kit",
        ),
        Style(
            "band",
            Voice(4, 60, 84, 0.85),
            Voice(25, 48, 67, 0.7),
            Voice(16, 52, 72, 0.4),
            Voice(25, 48, 76, 0.65),
            Voice(33, 28, 52, 0.9),
            0,
            False,
            Voice(4, 48, 76, 0.9),
            "electric piano, steel guitar, organ, finger bass, standard kit",
        ),
        Style(
            "electronic",
            Voice(80, 60, 84, 0.6),
            Voice(81, 48, 67, 0.45),
            Voice(89, 50, 74, 0.6),
            Voice(5, 55, 84, 0.6),
            Voice(38, 28, 52, 0.85),
            25,
            False,
            Voice(89, 48, 76, 0.9),
            "square lead, warm pad, electric piano arpeggios, synth bass, TR-808 kit",
        ),
    )
}


def mood(name: str) -> Mood:
    if name not in MOODS:
        raise MoviolaError(f"unknown mood '{name}'; choose one of {', '.join(MOODS)}")
    return MOODS[name]


def style(name: str) -> Style:
    if name not in STYLES:
        raise MoviolaError(f"unknown style '{name}'; choose one of {', '.join(STYLES)}")
    return STYLES[name]


def key_name(tonic: int, mode: str) -> str:
    return f"{PITCH_NAMES[tonic % 12]} {mode}"
