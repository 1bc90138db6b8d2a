"""The score as a Standard MIDI File (type 1), for a composer to open in a DAW (mido).

Track 0 holds the tempo map (a ``set_tempo`` wherever the tempo changes, so the file plays in sync with the
picture; microseconds per beat are whole numbers, off by at most 0.5 us a beat) and the time
signatures (4/4, and the sections' long last bars as 5/4, 6/4 or 7/4); then one track per
instrument with its name and program. Drums are on channel 10 with the kit as bank 128.
"""

from __future__ import annotations

import os
from pathlib import Path

from moviola.generate.score.arrange import Score

TICKS = 480


def _meta_track(score: Score):
    import mido

    track = mido.MidiTrack()
    marks: list[tuple[int, int, object]] = []
    for s in score.plan.sections:
        for beat, bpm in s.tempos:
            msg = mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm))
            marks.append(((s.first_beat + beat) * TICKS, 0, msg))
        beat = s.first_beat
        previous = None
        for n in s.bars:
            if n != previous:
                msg = mido.MetaMessage("time_signature", numerator=n, denominator=4)
                marks.append((beat * TICKS, 1, msg))
                previous = n
            beat += n
    marks.append((score.total_beats * TICKS, 1, mido.MetaMessage("time_signature", numerator=4)))
    marks.append((score.total_beats * TICKS, 2, mido.MetaMessage("marker", text="final chord")))
    marks.sort(key=lambda m: (m[0], m[1]))
    now = 0
    track.append(mido.MetaMessage("track_name", name="moviola score", time=0))
    for tick, _, msg in marks:
        track.append(msg.copy(time=tick - now))  # type: ignore[attr-defined]
        now = tick
    return track


def write_midi(score: Score, path: str | os.PathLike) -> Path:
    """Write ``score`` to ``path`` (atomically)."""
    import mido

    from moviola.media.atomic import atomic_output

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    midi.tracks.append(_meta_track(score))
    for part in score.parts:
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=part.name, time=0))
        ch = part.channel
        if part.bank >= 128:
            track.append(mido.Message("control_change", channel=ch, control=0, value=0, time=0))
            track.append(mido.Message("program_change", channel=ch, program=part.bank - 128))
        else:
            track.append(mido.Message("program_change", channel=ch, program=part.program))
        events = []
        for e in part.events:
            on = round(e.beat * TICKS)
            off = max(on + 1, round((e.beat + e.length) * TICKS))
            events.append(
                (on, 1, mido.Message("note_on", channel=ch, note=e.pitch, velocity=e.velocity))
            )
            events.append((off, 0, mido.Message("note_off", channel=ch, note=e.pitch, velocity=0)))
        events.sort(key=lambda m: (m[0], m[1]))
        now = 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    target = Path(path)
    with atomic_output(target) as tmp:
        midi.save(str(tmp))
    return target
