"""From a plan (sections, bars, intensity) to notes for each instrument: form and orchestration.

The learned composer (:mod:`.composer`) writes melody and chords, four bars at a time; the rules
here decide what it writes and who plays it:

- **Form.** Each section letter (see :mod:`.plan`) owns a period: a four-bar antecedent ending
  on a half cadence and a four-bar consequent ending on the tonic, composed once. A section
  plays them in turn, varied on every repeat (the composer's ``variation``); a remainder of one
  to three bars is composed fresh, ending on a half cadence, or on the tonic at the very end.
  A section longer than two periods goes A A B A by periods (B: new material). A section's
  long last bar (five to seven beats) holds its final chord and note. The piece
  opens with up to two bars without melody (the intro) and ends on a tonic chord struck on the
  final downbeat and held to the end of the video.
- **Orchestration by intensity** (the bar's, 0..1, plus the mood's ``energy``: epic and
  tense play fuller than the picture alone says, sad and calm thinner): pad always; arpeggios from 0.35; bass
  from 0.2 (roots, fifths from 0.5, an eighth pulse from 0.8); drums from 0.55 (more
  subdivisions at 0.7 and 0.85); timpani from 0.6; the melody doubled an octave down from 0.7.
  Velocities follow intensity and the mood's loudness.
- **Hits** on the strong cuts that fall on a beat: crash, bass drum or timpani, and a chord stab.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from moviola.generate.score import composer
from moviola.generate.score.moods import Mood, Style, Voice
from moviola.generate.score.plan import Plan

DRUMS = 9  # the General MIDI percussion channel
KICK, SIDESTICK, SNARE, HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 42, 46, 49, 51
GROUPS = ("melody", "harmony", "bass", "percussion")


@dataclass(frozen=True)
class Event:
    beat: float  # global beats from the start of the piece
    length: float  # beats
    pitch: int
    velocity: int


@dataclass
class Part:
    name: str
    group: str  # stem: one of GROUPS
    channel: int
    program: int
    bank: int = 0
    events: list[Event] = field(default_factory=list)

    def add(self, beat: float, length: float, pitch: int, velocity: float) -> None:
        if length > 0:
            v = int(np.clip(round(velocity), 1, 127))
            self.events.append(Event(beat, length, int(pitch), v))


@dataclass
class Score:
    plan: Plan
    parts: list[Part]
    tonic: int
    mode: str
    mood: str
    style: str
    total_beats: int  # beats before the final downbeat
    final_beats: float  # the final chord's length in beats

    @cached_property
    def _ends(self) -> list[int]:
        return [s.first_beat + s.beats for s in self.plan.sections]

    def seconds(self, beat: float) -> float:
        """The time of global ``beat`` (the tempo map: constant within each section)."""
        i = bisect.bisect_right(self._ends, beat)
        if i < len(self._ends):
            s = self.plan.sections[i]
            return s.time(beat - s.first_beat)
        last = self.plan.sections[-1]
        return self.plan.final + (beat - self.total_beats) * last.last_beat

    @property
    def notes(self) -> int:
        return sum(len(p.events) for p in self.parts)


@dataclass
class _Bar:
    beat: int  # global beat of its first beat
    beats: int
    intensity: float
    section: int
    intro: bool


def _parts(style: Style) -> dict[str, Part]:
    kit = style.kit if style.kit is not None else 48
    return {
        "melody": Part("melody", "melody", 0, style.melody.program),
        "counter": Part("counter", "melody", 1, style.counter.program),
        "pad": Part("pad", "harmony", 2, style.pad.program),
        "arp": Part("arpeggio", "harmony", 3, style.arp.program),
        "bass": Part("bass", "bass", 4, style.bass.program),
        "timpani": Part("timpani", "percussion", 5, 47),
        "stab": Part("stab", "harmony", 6, style.stab.program),
        "drums": Part("drums", "percussion", DRUMS, 0, 128 + kit),
    }


def _fit(pitch: int, voice: Voice) -> int:
    while pitch < voice.low:
        pitch += 12
    while pitch > voice.high:
        pitch -= 12
    return pitch


def _voicing(pitches: tuple[int, ...], voice: Voice) -> list[int]:
    """A close voicing of the chord's pitch classes around the middle of the voice's range."""
    centre = (voice.low + voice.high) // 2
    return sorted(centre - 6 + (pc - (centre - 6)) % 12 for pc in pitches)


class Arranger:
    """Writes a :class:`Score` for a plan (see the module notes)."""

    def __init__(self, plan: Plan, mood: Mood, style: Style, rng: np.random.Generator) -> None:
        self.plan, self.mood, self.style, self.rng = plan, mood, style, rng
        self.tonic = int(rng.choice(mood.tonics))
        self.parts = _parts(style)
        self.material: dict[str, tuple[composer.Phrase, composer.Phrase]] = {}
        self.played: set[tuple[str, int]] = set()
        self.bars: list[_Bar] = []
        self.chords: list[tuple[float, float, composer.Chord]] = []  # global beat, length
        self.melody: list[tuple[float, float, int, int]] = []

    # -- composition ---------------------------------------------------------------------------
    def _density(self, intensity: float) -> float:
        return float(np.clip(0.2 + 0.75 * intensity, 0, 1))

    def _compose(self, bars: int, densities: list[float], cadence: str) -> composer.Phrase:
        return composer.compose_phrase(
            bars,
            tonic=self.tonic,
            mode=self.mood.mode,
            rng=self.rng,
            density=densities,
            register=(self.style.melody.low, self.style.melody.high),
            cadence=cadence,
            temperature=self.mood.temperature,
            style=self.mood.phrasing,
            chord_beats=self.mood.chord_beats,
        )

    def _period(self, letter: str, densities: list[float]) -> tuple[composer.Phrase, ...]:
        if letter not in self.material:
            self.material[letter] = (
                self._compose(4, densities, "half"),
                self._compose(4, densities, "authentic"),
            )
        return self.material[letter]

    def write(self) -> Score:
        intro = 2 if len(self.plan.sections[0].bars) >= 6 else 0
        for si, section in enumerate(self.plan.sections):
            last_section = si == len(self.plan.sections) - 1
            beat = section.first_beat
            sizes = [4] * (len(section.bars) // 4)
            if len(section.bars) % 4:
                sizes.append(len(section.bars) % 4)
            bar_index = 0
            for ci, k in enumerate(sizes):
                bar_beats = section.bars[bar_index : bar_index + k]
                levels = [
                    float(np.clip(x + self.mood.energy, 0.0, 1.0))
                    for x in section.bar_intensity[bar_index : bar_index + k]
                ]
                densities = [self._density(x) for x in levels]
                final_chunk = ci == len(sizes) - 1
                if k == 4:
                    # long sections go A A B A by periods (8 bars): the B is new material
                    letter = section.letter + ("'" if ci // 2 % 4 == 2 else "")
                    period = self._period(letter, densities)
                    which = 1 if ci % 2 == 1 or (final_chunk and last_section) else 0
                    phrase = period[which]
                    if (letter, which) in self.played:
                        phrase = composer.variation(phrase, rng=self.rng, amount=0.35)
                    self.played.add((letter, which))
                else:
                    cadence = "authentic" if final_chunk and last_section else "half"
                    phrase = self._compose(k, densities, cadence)
                self._place(phrase, beat, bar_beats)
                for b, n in enumerate(bar_beats):
                    start = beat + sum(bar_beats[:b])
                    self.bars.append(_Bar(start, n, levels[b], si, len(self.bars) < intro))
                beat += sum(bar_beats)
                bar_index += k
        total = self.plan.sections[-1].first_beat + self.plan.sections[-1].beats
        last = self.plan.sections[-1]
        final_beats = max(0.5, (self.plan.duration - 0.15 - self.plan.final) / last.last_beat)
        self._orchestrate()
        self._hits()
        self._ending(total, final_beats)
        parts = [p for p in self.parts.values() if p.events]
        for p in parts:
            p.events.sort(key=lambda e: (e.beat, e.pitch))
        return Score(
            self.plan,
            parts,
            self.tonic,
            self.mood.mode,
            self.mood.name,
            self.style.name,
            total,
            final_beats,
        )

    def _place(self, phrase: composer.Phrase, beat: int, bar_beats: list[int]) -> None:
        """Put a phrase of 4-beat bars at ``beat``; a long last bar holds what ends with it."""
        end = 4 * len(bar_beats)
        hold = sum(bar_beats) - end
        for c in phrase.chords:
            length = c.length + (hold if c.start + c.length >= end - 1e-6 else 0)
            self.chords.append((beat + c.start, length, c))
        for n in phrase.melody:
            length = n.length + (hold if n.start + n.length >= end - 1e-6 else 0)
            self.melody.append((beat + n.start, length, n.pitch, n.velocity))

    # -- orchestration ---------------------------------------------------------------------------
    def _bar_at(self, beat: float) -> _Bar:
        """The last bar starting at or before ``beat`` (bars are in time order)."""
        i = bisect.bisect_right(self.bars, beat + 1e-6, key=lambda bar: bar.beat)
        return self.bars[max(i - 1, 0)]

    def _velocity(self, intensity: float, voice_level: float, accent: float = 1.0) -> float:
        return 127 * voice_level * accent * (0.35 + 0.45 * self.mood.loudness + 0.3 * intensity)

    def _orchestrate(self) -> None:
        st = self.style
        for beat, length, pitch, vel in self.melody:
            bar = self._bar_at(beat)
            if bar.intro:
                continue
            accent = 0.75 + 0.25 * vel / 100
            v = self._velocity(bar.intensity, st.melody.level, accent)
            self.parts["melody"].add(beat, length, _fit(pitch, st.melody), v)
            if bar.intensity >= 0.7:
                low = _fit(pitch - 12, st.counter)
                self.parts["counter"].add(beat, length, low, v * st.counter.level / st.melody.level)
        for beat, length, chord in self.chords:
            bar = self._bar_at(beat)
            v = self._velocity(bar.intensity, st.pad.level, 0.8)
            for p in _voicing(chord.pitches, st.pad):
                self.parts["pad"].add(beat, length, p, v)
            self._arpeggio(beat, length, chord, bar)
            self._bass(beat, length, chord, bar)
        for bar in self.bars:
            if not bar.intro:
                self._drums(bar)

    def _arpeggio(self, beat: float, length: float, chord: composer.Chord, bar: _Bar) -> None:
        if bar.intensity < 0.35:
            return
        step = 0.25 if bar.intensity >= 0.8 and self.mood.name in ("tense", "epic") else 0.5
        low = _voicing(chord.pitches, self.style.arp)
        tones = low + [p + 12 for p in low]
        order = tones + tones[-2:0:-1]
        v = self._velocity(bar.intensity, self.style.arp.level, 0.7)
        t, i = 0.0, 0
        while t < length - 1e-6:
            accent = 1.15 if (beat + t) % 1 < 1e-6 else 1.0
            note = _fit(order[i % len(order)], self.style.arp)
            self.parts["arp"].add(beat + t, min(step, length - t), note, v * accent)
            t += step
            i += 1

    def _bass(self, beat: float, length: float, chord: composer.Chord, bar: _Bar) -> None:
        if bar.intensity < 0.2 and not bar.intro:
            return
        bass = self.style.bass
        root = _fit(chord.root + 36, bass)
        fifth = _fit(root + 7, bass) if (chord.root + 7) % 12 in chord.pitches else root
        v = self._velocity(bar.intensity, bass.level)
        if bar.intensity >= 0.8 and not bar.intro:
            t = 0.0
            while t < length - 1e-6:
                self.parts["bass"].add(beat + t, min(0.45, length - t), root, v * 0.9)
                t += 0.5
        elif bar.intensity >= 0.5 and length > 2:
            self.parts["bass"].add(beat, 2, root, v)
            self.parts["bass"].add(beat + 2, length - 2, fifth, v * 0.85)
        else:
            self.parts["bass"].add(beat, length, root, v)

    def _drums(self, bar: _Bar) -> None:
        x = bar.intensity
        if self.style.timpani and x >= 0.6:
            chord = self._chord_at(bar.beat)
            pitch = 41 + (chord.root - 5) % 12 if chord else 43
            v = self._velocity(x, 0.8)
            self.parts["timpani"].add(bar.beat, 1.0, pitch, v)
            if x >= 0.85 and bar.beats >= 4:
                self.parts["timpani"].add(bar.beat + 2, 1.0, pitch, v * 0.8)
        if self.style.kit is None or x < 0.55:
            return
        d = self.parts["drums"]
        soft = self.style.kit in (40, 48)
        v = self._velocity(x, 0.85)
        for b in range(bar.beats):
            t = bar.beat + b
            if b % 2 == 0:
                d.add(t, 0.5, KICK, v * (1.0 if b == 0 else 0.85))
            else:
                d.add(t, 0.5, SIDESTICK if soft and x < 0.7 else SNARE, v * 0.8)
            sub = 4 if x >= 0.85 else 2 if x >= 0.7 else 1
            for k in range(sub):
                d.add(t + k / sub, 0.25, RIDE if soft else HAT, v * (0.6 if k else 0.7))
        if x >= 0.7 and bar.beats >= 4:
            d.add(bar.beat + 2.5, 0.5, KICK, v * 0.7)

    def _chord_at(self, beat: float) -> composer.Chord | None:
        """The chord sounding at ``beat`` (chords are in time order and do not overlap)."""
        i = bisect.bisect_right(self.chords, beat + 1e-6, key=lambda c: c[0]) - 1
        if i >= 0 and beat + 1e-6 < self.chords[i][0] + self.chords[i][1]:
            return self.chords[i][2]
        return None

    def _hits(self) -> None:
        beats = self.plan.beat_times()
        starts = {s.first_beat for s in self.plan.sections[1:]}
        for time, strength in self.plan.hits:
            beat = int(np.argmin(np.abs(beats - time)))
            self._hit(beat, strength)
            starts.discard(beat)
        for beat in starts:  # a new section that did not start on a strong cut: a crash only
            self.parts["drums"].add(beat, 1.0, CRASH, 70)

    def _hit(self, beat: float, strength: float, hold: float = 1.0) -> None:
        v = 70 + 50 * strength
        self.parts["drums"].add(beat, 2.0, CRASH, v)
        self.parts["drums"].add(beat, 1.0, KICK, v)
        chord = self._chord_at(beat)
        if chord is not None:
            for p in _voicing(chord.pitches, self.style.stab):
                self.parts["stab"].add(beat, hold, p, v * self.style.stab.level)
            if self.style.timpani:
                self.parts["timpani"].add(beat, 1.0, 41 + (chord.root - 5) % 12, v)

    def _ending(self, total: int, length: float) -> None:
        """The tonic chord on the final downbeat, held to the end."""
        third = 3 if self.mood.mode in ("minor", "dorian") else 4
        pcs = tuple((self.tonic + i) % 12 for i in (0, third, 7))
        chord = composer.Chord(0, length, self.tonic, "min" if third == 3 else "maj", pcs)
        self.chords.append((total, length, chord))
        st = self.style
        x = self.bars[-1].intensity if self.bars else 0.5
        add: Callable[[str, int, float], None] = lambda part, p, v: self.parts[part].add(  # noqa: E731
            total, length, p, v
        )
        for p in _voicing(pcs, st.pad):
            add("pad", p, self._velocity(x, st.pad.level))
        add("melody", _fit(self.tonic + 72, st.melody), self._velocity(x, st.melody.level))
        add("bass", _fit(self.tonic + 36, st.bass), self._velocity(x, st.bass.level))
        self._hit(total, min(1.0, 0.4 + x), hold=length)


def arrange(plan: Plan, mood: Mood, style: Style, rng: np.random.Generator) -> Score:
    return Arranger(plan, mood, style, rng).write()
