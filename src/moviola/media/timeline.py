"""How the output's time maps to the source's time, and what the output's audio is made of.

This is the one declared way for an effect to change the sound and the subtitles in sync with
its frames: ``Effect.map_timeline`` receives the timeline so far and returns a new one. Trims
and speed changes compose into one affine map (output time -> source time); effects that add
sound (a score, a dub, narration) place :class:`AudioLayer` s on it, effects that lower or mute
the source audio over a range (ducking under dialogue, cutting a cough) add :class:`Gain` s, and
an effect that replaces the sound drops the source audio and adds layers. Later trims and speed
changes move all of them with the picture, because every position is kept in source-clip time.
Subtitle cues follow the same map (:meth:`Timeline.to_output`).

The audio writer (``media/audio.py``) renders the timeline: source audio cut and time-stretched
along the map (pitch kept), gains applied, layers mixed in, one encode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction


@dataclass(frozen=True)
class AudioLayer:
    """A file's audio mixed into the output, starting at source-clip time ``at``.

    ``speed`` is the timeline's speed when the layer was added: the layer is time-stretched by
    the speed changes that come after it, as the picture is. ``stream`` is the index of an
    audio stream in ``path`` (None: its first audio stream).
    """

    path: str
    at: Fraction = Fraction(0)
    gain_db: float = 0.0
    stream: int | None = None
    speed: Fraction = Fraction(1)


@dataclass(frozen=True)
class Gain:
    """The source audio ``gain_db`` louder (negative: quieter) over source-clip times
    [start, end); -inf or below -90 dB mutes it."""

    start: Fraction
    end: Fraction
    gain_db: float


@dataclass(frozen=True)
class Timeline:
    """An affine map from output time to source time, with a window, and the output's sound.

    The output at time ``t`` shows the source at ``start + t * speed``, and the output ends at
    source time ``end``. Times are exact seconds relative to the clip's origin (its first video
    frame). ``audio`` says whether the source's own audio is heard ("keep") or not ("drop");
    ``layers`` and ``gains`` are what effects added (see the module notes).
    """

    start: Fraction = Fraction(0)
    end: Fraction | None = None
    speed: Fraction = Fraction(1)
    audio: str = "keep"  # "keep": follow the map (tempo-changed, pitch kept); "drop": not heard
    layers: tuple[AudioLayer, ...] = ()
    gains: tuple[Gain, ...] = ()

    @property
    def is_identity(self) -> bool:
        """The time map changes nothing (the sound may still be changed: see ``changes_sound``)."""
        return self.start == 0 and self.end is None and self.speed == 1

    @property
    def changes_sound(self) -> bool:
        """Effects added, lowered or replaced sound: the source audio cannot be stream-copied."""
        return bool(self.layers or self.gains) or self.audio != "keep"

    @property
    def has_audio(self) -> bool:
        """The output has sound: the source's, or layers an effect added."""
        return self.audio == "keep" or bool(self.layers)

    # -- time --------------------------------------------------------------------------------
    def trimmed(self, start: Fraction | None, end: Fraction | None) -> Timeline:
        """Keep output times [start, end) of this timeline."""
        start = start or Fraction(0)
        new_start = self.start + start * self.speed
        new_end = self.start + end * self.speed if end is not None else None
        if self.end is not None:
            new_end = self.end if new_end is None else min(new_end, self.end)
        return replace(self, start=new_start, end=new_end)

    def sped(self, factor: Fraction) -> Timeline:
        """Play ``factor`` times faster (2 = twice as fast, half as long)."""
        return replace(self, speed=self.speed * Fraction(factor))

    def source_time(self, output_time: Fraction) -> Fraction:
        """The source-clip time shown at ``output_time``."""
        return self.start + Fraction(output_time) * self.speed

    def to_output(self, source_time: Fraction) -> Fraction:
        """Where source-clip time ``source_time`` lands in the output (it may lie outside)."""
        return (Fraction(source_time) - self.start) / self.speed

    def keeps(self, source_time: Fraction) -> bool:
        """Whether source-clip time ``source_time`` is inside the output's window."""
        return source_time >= self.start and (self.end is None or source_time < self.end)

    # -- sound -------------------------------------------------------------------------------
    def without_audio(self) -> Timeline:
        """The source's audio is not heard (layers added later still are)."""
        return replace(self, audio="drop")

    def mixed(
        self,
        path: str,
        at: Fraction = Fraction(0),
        gain_db: float = 0.0,
        stream: int | None = None,
    ) -> Timeline:
        """Mix ``path``'s audio in from this timeline's output time ``at``."""
        layer = AudioLayer(str(path), self.source_time(at), gain_db, stream, self.speed)
        return replace(self, layers=(*self.layers, layer))

    def ducked(self, start: Fraction, end: Fraction, gain_db: float) -> Timeline:
        """Make the source audio ``gain_db`` louder (negative: quieter) over output times
        [start, end) of this timeline."""
        gain = Gain(self.source_time(start), self.source_time(end), gain_db)
        return replace(self, gains=(*self.gains, gain))

    def replaced(self, path: str, at: Fraction = Fraction(0), gain_db: float = 0.0) -> Timeline:
        """Only ``path``'s audio is heard (a dub, a score instead of the location sound)."""
        return replace(self, audio="drop", layers=()).mixed(path, at, gain_db)
