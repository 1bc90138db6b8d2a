"""The score made audible: FluidSynth with the FluidR3_GM soundfont, stems, ducking, loudness.

Each stem (melody, harmony, bass, percussion) is played by its own FluidSynth instance (one at
a time, so the 148 MB soundfont is in memory once) with FluidSynth's reverb and chorus, at
48 kHz stereo, into a raw file beside the output (16-bit, as FluidSynth makes it: 192 kB a
second a stem): memory holds one block of audio whatever the length. The mix is then read back block by block: summed, ducked under the
dialogue (Silero VAD's speech regions; the music drops ``DUCK`` dB 0.15 s before speech and
recovers over 0.5 s after), scaled and passed through the peak limiter. Music alone and
replacing a video's sound are brought to -14 LUFS integrated (the streaming BS.1770 meter, as
pyloudnorm measures), peaks under -1 dBFS; under dialogue the dialogue keeps its level and the
music sits ``BED`` LU under it. Measuring passes (up to five, secant steps) make up what the limiter takes, to 0.05 LU.
Lossy outputs (AAC, Opus, MP3) get a -2 dBFS ceiling: their decoders overshoot by up to a dB.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.generate.score.arrange import GROUPS, Score

RATE = 48000
TARGET = -14.0  # LUFS, music alone or replacing the sound
DUCK = -12.0  # dB under speech
BED = 4.0  # LU the music (unducked) sits under the dialogue
BLOCK = 1 << 15
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/local/share/soundfonts/FluidR3_GM.sf2",
)


def soundfont() -> Path:
    """The FluidR3_GM soundfont: $MOVIOLA_SOUNDFONT, or where Debian's fluid-soundfont-gm puts it."""
    env = os.environ.get("MOVIOLA_SOUNDFONT")
    for p in ([env] if env else []) + list(SOUNDFONTS):
        if Path(p).is_file():
            return Path(p)
    raise MoviolaError(
        "score needs the FluidR3_GM soundfont: apt-get install fluid-soundfont-gm libfluidsynth3 "
        "(or set MOVIOLA_SOUNDFONT to a General MIDI .sf2)"
    )


def load_fluidsynth():
    """Import pyfluidsynth, which loads libfluidsynth when imported. With $CI set, the wrapper
    prints where it found the library to stdout, which would corrupt ``--json`` output: the
    import's prints go to stderr."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import fluidsynth
    except (ImportError, OSError) as e:
        raise MoviolaError(
            f"score needs FluidSynth: apt-get install libfluidsynth3, pip install pyfluidsynth ({e})"
        ) from None
    return fluidsynth


def _synth(font: Path):
    fluidsynth = load_fluidsynth()
    synth = fluidsynth.Synth(samplerate=RATE, gain=0.3)
    synth.set_reverb(roomsize=0.6, damping=0.4, width=0.8, level=0.55)
    synth.set_chorus(nr=3, level=1.2, speed=0.3, depth=6.0, type=0)
    sfid = synth.sfload(str(font))
    if sfid < 0:
        synth.delete()
        raise MoviolaError(f"FluidSynth cannot load the soundfont {font}")
    return synth, sfid


def render_stem(score: Score, group: str, target: Path, samples: int, font: Path) -> float:
    """Play the parts of ``group`` into ``target`` (raw 16-bit, stereo interleaved, exactly
    ``samples`` frames). Returns the peak (0..1) FluidSynth's 16-bit output reached."""
    parts = [p for p in score.parts if p.group == group]
    synth, sfid = _synth(font)
    peak = 0.0
    try:
        events: list[tuple[int, int, int, int, int]] = []  # sample, order, channel, pitch, vel
        for p in parts:
            synth.program_select(
                p.channel,
                sfid,
                128 if p.bank >= 128 else 0,
                p.bank - 128 if p.bank >= 128 else p.program,
            )
            for e in p.events:
                on = round(score.seconds(e.beat) * RATE)
                off = round(score.seconds(e.beat + e.length) * RATE)
                events.append((on, 1, p.channel, e.pitch, e.velocity))
                events.append((max(on + 1, off), 0, p.channel, e.pitch, 0))
        events.sort()
        done = 0
        with open(target, "wb") as f:

            def advance(until: int) -> None:
                nonlocal done, peak
                while done < until:
                    n = min(BLOCK, until - done)
                    raw = np.asarray(synth.get_samples(n), np.int16)
                    peak = max(
                        peak, float(np.abs(raw.astype(np.int32)).max()) / 32767 if raw.size else 0
                    )
                    raw.tofile(f)  # 16-bit as FluidSynth made it: half the disk of floats
                    done += n

            for sample, order, channel, pitch, vel in events:
                advance(min(sample, samples))
                if order:
                    synth.noteon(channel, pitch, vel)
                else:
                    synth.noteoff(channel, pitch)
            advance(samples)
    finally:
        synth.delete()
    return peak


@dataclass
class Mixed:
    loudness: float  # LUFS integrated of what was written
    peak_db: float  # its sample peak, dBFS
    limited_db: float  # deepest gain reduction of the limiter, dB
    music_gain_db: float
    ducked: int  # speech regions the music ducked under


def read_raw(path: Path, samples: int) -> Iterator[np.ndarray]:
    """A raw stereo 16-bit file in float32 blocks of (frames, 2)."""
    with open(path, "rb") as f:
        left = samples
        while left > 0:
            n = min(BLOCK, left)
            block = np.fromfile(f, np.int16, count=2 * n).reshape(-1, 2) / np.float32(32768)
            if block.shape[0] < n:  # short file: silence
                block = np.concatenate([block, np.zeros((n - block.shape[0], 2), np.float32)])
            yield block
            left -= n


def duck_envelope(spans: Sequence[tuple[float, float]], start: int, n: int) -> np.ndarray:
    """The music's gain (linear) for samples ``start .. start+n`` under ``spans`` of speech."""
    t = (start + np.arange(n)) / RATE
    floor = 10 ** (DUCK / 20)
    g = np.ones(n)
    for a, b in spans:
        if b + 0.5 < t[0] or a - 0.15 > t[-1]:
            continue
        down = np.clip((t - (a - 0.15)) / 0.15, 0, 1)  # reach the floor as speech starts
        up = np.clip(1 - (t - b) / 0.5, 0, 1)  # recover after it ends
        depth = np.minimum(down, up)
        g = np.minimum(g, 1 - (1 - floor) * depth)
    return g.astype(np.float32)


def _mix_blocks(stems: list[Path], samples: int, dialogue: Iterator[np.ndarray] | None,
                spans: Sequence[tuple[float, float]], music_gain: float) -> Iterator[np.ndarray]:  # fmt: skip
    readers = [read_raw(p, samples) for p in stems]
    pos = 0
    buffer = np.zeros((0, 2), np.float32)
    for blocks in zip(*readers, strict=True):
        music = np.sum(blocks, axis=0) * music_gain
        n = music.shape[0]
        if spans:
            music *= duck_envelope(spans, pos, n)[:, None]
        if dialogue is not None:
            while buffer.shape[0] < n:
                more = next(dialogue, None)
                if more is None:
                    more = np.zeros((n - buffer.shape[0], 2), np.float32)
                buffer = np.concatenate([buffer, more])
            music = music + buffer[:n]
            buffer = buffer[n:]
        pos += n
        yield music


def _shifted(chunks: Iterator[np.ndarray], offset: float) -> Iterator[np.ndarray]:
    """Audio that starts ``offset`` seconds late (silence first) or early (its start dropped)."""
    n = round(offset * RATE)
    if n > 0:
        yield np.zeros((n, 2), np.float32)
    drop = max(0, -n)
    for c in chunks:
        if drop:
            c, drop = c[drop:], max(0, drop - c.shape[0])
        yield c


def _measure(chunks: Iterator[np.ndarray]) -> float:
    from moviola.media.loudness import LoudnessMeter

    meter = LoudnessMeter(RATE)
    for c in chunks:
        meter.add(c)
    return meter.integrated


def _limited(chunks: Iterator[np.ndarray], meter, limiter) -> Iterator[np.ndarray]:
    for c in chunks:
        out = limiter.process(c)
        meter.add(out)
        yield out
    out = limiter.finish()
    meter.add(out)
    yield out


def mix(
    stems: list[Path],
    samples: int,
    output: Path,
    *,
    dialogue: Path | None = None,
    metadata: dict[str, str] | None = None,
    duck: bool = True,
    offset: float = 0.0,
    ceiling: float = -1.0,
) -> Mixed:
    """Mix ``stems`` (raw files) to ``output`` (any audio format), normalised as the module
    notes say. ``dialogue``: a file whose audio the music goes under (ducked unless ``duck`` is
    False), at its own level; its first sample plays ``offset`` seconds into the music.
    ``ceiling``: the sample peak allowed, dBFS (lower it for lossy codecs, which overshoot)."""
    from moviola.media.loudness import LoudnessMeter, PeakLimiter
    from moviola.media.pcm import decode_pcm, encode_pcm

    spans: list[tuple[float, float]] = []
    music_loud = _measure(_mix_blocks(stems, samples, None, [], 1.0))
    if not math.isfinite(music_loud):
        raise MoviolaError("the score came out silent (no notes were rendered)")
    if dialogue is not None:
        from moviola.speech.edit import speech_spans

        spans = [(float(a) + offset, float(b) + offset) for a, b in speech_spans(dialogue)]
        voice = _measure(decode_pcm(dialogue, RATE, channels=2))
        # sound without speech (or silence): the music at the usual level over it
        target = voice - BED if math.isfinite(voice) and spans else TARGET
        gain = 10 ** ((target - music_loud) / 20)
    else:
        gain = 10 ** ((TARGET - music_loud) / 20)

    def chunks(g: float) -> Iterator[np.ndarray]:
        talk = _shifted(decode_pcm(dialogue, RATE, channels=2), offset) if dialogue else None
        return _mix_blocks(stems, samples, talk, spans if duck else [], g)

    tried: list[tuple[float, float]] = []  # (gain dB, loudness after the limiter)
    for _ in range(5 if dialogue is None else 0):  # make up what the limiter takes
        meter = LoudnessMeter(RATE)
        for _ in _limited(chunks(gain), meter, PeakLimiter(RATE, ceiling)):
            pass
        loud = meter.integrated
        if not math.isfinite(loud) or abs(loud - TARGET) < 0.05:
            break
        g = 20 * math.log10(gain)
        step = TARGET - loud
        if tried and abs(loud - tried[-1][1]) > 1e-3:  # secant: the limiter flattens the slope
            slope = (loud - tried[-1][1]) / (g - tried[-1][0])
            step /= min(1.0, max(0.2, slope))
        tried.append((g, loud))
        gain = 10 ** ((g + step) / 20)
    meter = LoudnessMeter(RATE)
    limiter = PeakLimiter(RATE, ceiling)
    out = _limited(chunks(gain), meter, limiter)
    encode_pcm(output, out, RATE, metadata, channels=2)
    peak = 20 * math.log10(max(meter.peak, 1e-9))
    ducked = len(spans) if duck else 0
    return Mixed(meter.integrated, peak, limiter.reduced, 20 * math.log10(gain), ducked)


def render_stems(score: Score, samples: int, folder: Path) -> dict[str, Path]:
    """Every stem of ``score`` as a raw file in ``folder``."""
    font = soundfont()
    out = {}
    for group in GROUPS:
        if any(p.group == group and p.events for p in score.parts):
            path = folder / f"{group}.s16"
            render_stem(score, group, path, samples, font)
            out[group] = path
    return out


def temp_folder(near: Path) -> tempfile.TemporaryDirectory:
    """A scratch folder beside ``near`` (same disk as the output)."""
    parent = near.parent if str(near.parent) else Path(".")
    return tempfile.TemporaryDirectory(prefix=".moviola-score-", dir=parent)
