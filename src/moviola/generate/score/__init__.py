"""``moviola score``: an original piece scored to a video (or ``--seconds`` of music alone).

The parts: :mod:`.picture` (cuts, motion, brightness), :mod:`.plan` (sections at the strongest
cuts, tempo and bar lines fitted so the cuts fall on beats, intensity per bar),
:mod:`.composer` (the learned melody-over-chords model, trained by ``scripts/train-composer``),
:mod:`.arrange` (form and orchestration), :mod:`.midi` (the MIDI file), :mod:`.render`
(FluidSynth + FluidR3_GM, stems, ducking, -14 LUFS). The video's picture is stream-copied
(:mod:`moviola.media.remux`) where the container allows, else re-encoded.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moviola.errors import MoviolaError
from moviola.generate.score.moods import (
    MOODS,
    STYLES,
    key_name,
)
from moviola.generate.score.moods import (
    mood as get_mood,
)
from moviola.generate.score.moods import (
    style as get_style,
)
from moviola.generate.score.plan import Plan, Tempo, make_plan

if TYPE_CHECKING:
    from moviola.media.probe import MediaInfo

__all__ = ["MOODS", "STYLES", "ScoreResult", "make_music", "score_video"]

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".mka"}
MAX_SECONDS = 3 * 3600  # bounded work


@dataclass
class ScoreResult:
    output: Path
    seconds: float
    mood: str
    style: str
    key: str
    sections: list[dict]
    cuts: int
    on_beat: float  # fraction of the cuts within one frame of a beat
    on_bar: float  # ... of a bar line
    hits: int
    notes: int
    loudness: float
    peak_db: float
    ducked: int
    render_seconds: float
    midi: Path | None = None
    stems: list[Path] = field(default_factory=list)
    audio: str = "music"  # "music" (audio file), "replaced", "mixed"
    beats: list[float] = field(default_factory=list)  # every beat's time, seconds
    bar_lines: list[float] = field(default_factory=list)  # every bar's first beat
    fallback: str | None = None  # why the picture's audio could not be copied

    @property
    def speed(self) -> float:
        """Times real time."""
        return self.seconds / self.render_seconds if self.render_seconds else 0.0


def parse_tempo(tempo: str | float | None, mood: str) -> Tempo:
    lo, hi, fav = get_mood(mood).tempo
    if tempo in (None, "auto", ""):
        return Tempo(lo, hi, fav)
    try:
        bpm = float(tempo)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MoviolaError(
            f"--tempo must be auto or a BPM between 40 and 220, not '{tempo}'"
        ) from None
    if not 40 <= bpm <= 220:
        raise MoviolaError(f"--tempo must be auto or a BPM between 40 and 220, not '{tempo}'")
    return Tempo(bpm * 0.97, bpm * 1.03, bpm, fixed=True)


def _sections(plan: Plan) -> list[dict]:
    return [
        {
            "start": round(s.start, 4),
            "end": round(s.end, 4),
            "bpm": round(s.bpm, 2),
            "bars": len(s.bars),
            "letter": s.letter,
            "intensity": round(s.intensity, 3),
        }
        for s in plan.sections
    ]


def _synthetic_tags(what: str, mood: str, style: str, key: str) -> dict[str, str]:
    from moviola._version import __version__

    return {
        "moviola_synthetic": f"music; score; moviola {__version__}",
        "comment": f"music composed by moviola score ({mood}, {style}, {key}); {what}",
    }


def _render(  # noqa: PLR0913 - the command's options
    plan: Plan,
    mood: str,
    style: str | None,
    seed: int,
    output: Path,
    *,
    midi: str | os.PathLike | None,
    stems: str | os.PathLike | None,
    video: str | None,
    replace_audio: bool,
    duck: bool = True,
    info: MediaInfo | None = None,
) -> ScoreResult:
    """Compose, play and write ``plan``; ``info`` is the video's probe (None: music alone)."""
    from moviola.generate.score.arrange import arrange
    from moviola.generate.score.midi import write_midi
    from moviola.generate.score.render import RATE, mix, read_raw, render_stems, temp_folder
    from moviola.media.pcm import encode_pcm

    started = time.perf_counter()
    m = get_mood(mood)
    st = get_style(style or m.style)
    score = arrange(plan, m, st, np.random.default_rng(seed))
    key = key_name(score.tonic, score.mode)
    samples = round(plan.duration * RATE)
    is_audio = output.suffix.lower() in AUDIO_SUFFIXES
    dialogue = None
    audio_mode = "music"
    offset = 0.0
    if info is not None and video is not None and not is_audio:
        audio_mode = "replaced" if replace_audio or not info.audio else "mixed"
        dialogue = Path(video) if audio_mode == "mixed" else None
        if info.audio and info.video:
            offset = float(info.audio[0].start_time - info.video[0].start_time)
    tags = _synthetic_tags("signed as synthetic (C2PA)", m.name, st.name, key)
    midi_path = write_midi(score, midi) if midi else None
    stem_paths: list[Path] = []
    fallback = None
    with temp_folder(output) as tmp:
        folder = Path(tmp)
        raw = render_stems(score, samples, folder)
        lossless = output.suffix.lower() in (".wav", ".flac")
        ceiling = -1.0 if lossless else -2.0
        if is_audio:
            mixed = mix(list(raw.values()), samples, output, metadata=tags, ceiling=ceiling)
            written = output
        else:
            sound = folder / "mix.flac"
            mixed = mix(
                list(raw.values()),
                samples,
                sound,
                dialogue=dialogue,
                duck=duck,
                offset=offset,
                ceiling=ceiling,
            )
            assert video is not None
            fallback = _with_sound(video, sound, output, tags)
            written = output
        if stems:
            gain = 10 ** (mixed.music_gain_db / 20)
            out_dir = Path(stems)
            out_dir.mkdir(parents=True, exist_ok=True)
            for group, path in raw.items():
                blocks = (b * gain for b in read_raw(path, samples))
                stem_paths.append(
                    encode_pcm(out_dir / f"{group}.wav", blocks, RATE, tags, channels=2)
                )
    from moviola.media import provenance

    provenance.sign(written, kind="music", tool="score", ingredient=video if not is_audio else None)
    beats, bars = plan.beat_times(), plan.bar_times()
    return ScoreResult(
        output=written,
        seconds=plan.duration,
        mood=m.name,
        style=st.name,
        key=key,
        sections=_sections(plan),
        cuts=len(plan.cuts),
        on_beat=plan.on_grid(beats),
        on_bar=plan.on_grid(bars),
        hits=len(plan.hits),
        notes=score.notes,
        loudness=mixed.loudness,
        peak_db=mixed.peak_db,
        ducked=mixed.ducked,
        render_seconds=time.perf_counter() - started,
        midi=midi_path,
        stems=stem_paths,
        audio=audio_mode,
        fallback=fallback,
        beats=[float(t) for t in beats],
        bar_lines=[float(t) for t in bars],
    )


def _with_sound(video: str, sound: Path, output: Path, tags: dict[str, str]) -> str | None:
    """The video with ``sound`` as its audio: picture copied, or re-encoded where the container
    cannot take it (then the reason is returned)."""
    from moviola.media.remux import can_copy, with_audio

    if can_copy(video, output):
        with_audio(video, sound, output, metadata=tags)
        return None
    from moviola.generate.score.soundtrack import Soundtrack
    from moviola.pipeline.runner import run

    run(video, output, [Soundtrack(path=str(sound))], metadata=tags)
    return "the picture was re-encoded: this container cannot take its codec by copy"


def _settings(mood: str, style: str | None, tempo: str | float | None) -> Tempo:
    """The tempo range; an unknown mood, style or tempo is one line, before any work."""
    get_style(style or get_mood(mood).style)
    return parse_tempo(tempo, mood)


def _check_output(output: str | os.PathLike, video: bool) -> Path:
    from moviola.media.pcm import check_audio_target

    out = Path(output)
    if out.suffix.lower() in AUDIO_SUFFIXES:
        return check_audio_target(out)
    if not video:
        raise MoviolaError(
            f"cannot write music as {out.name}: use {', '.join(sorted(AUDIO_SUFFIXES))}"
        )
    from moviola.media.formats import resolve_target

    resolve_target(out)
    return out


def score_video(  # noqa: PLR0913 - the command's options
    video: str | os.PathLike,
    output: str | os.PathLike,
    *,
    mood: str = "calm",
    style: str | None = None,
    tempo: str | float | None = "auto",
    seed: int = 0,
    midi: str | os.PathLike | None = None,
    stems: str | os.PathLike | None = None,
    replace_audio: bool = False,
    duck: bool = True,
) -> ScoreResult:
    """Score ``video``: write it with the music (mixed under its sound, ducked under speech, or
    replacing it) to ``output``, or the music alone when ``output`` is an audio file."""
    from moviola.generate.score.picture import analyse
    from moviola.media.probe import probe

    tempo_range = _settings(mood, style, tempo)
    out = _check_output(output, video=True)
    if Path(video).resolve() == out.resolve():
        raise MoviolaError(f"output is the input file: {out} (choose another name)")
    info = probe(video)
    if not info.video:
        raise MoviolaError(f"{video} has no video stream: score needs a video (or --seconds)")
    if float(info.duration or 0) > MAX_SECONDS:  # bounded work: refused before any decoding
        raise MoviolaError(f"{video} is over {MAX_SECONDS // 3600} hours long: score it in parts")
    picture = analyse(video)
    plan = make_plan(
        picture.duration, picture.fps, picture.cuts, picture.intensity, 10.0, tempo_range
    )
    return _render(plan, mood, style, seed, out, midi=midi, stems=stems, video=str(video),
                   replace_audio=replace_audio, duck=duck, info=info)  # fmt: skip


def make_music(
    seconds: float,
    output: str | os.PathLike,
    *,
    mood: str = "calm",
    style: str | None = None,
    tempo: str | float | None = "auto",
    seed: int = 0,
    midi: str | os.PathLike | None = None,
    stems: str | os.PathLike | None = None,
) -> ScoreResult:
    """``seconds`` of music with no picture: an arc from quiet to full and back."""
    tempo_range = _settings(mood, style, tempo)
    if not 0 < seconds <= MAX_SECONDS:
        raise MoviolaError(f"--seconds must be between 0 and {MAX_SECONDS}, not {seconds:g}")
    out = _check_output(output, video=False)
    n = max(1, int(np.ceil(seconds * 10)))
    x = np.linspace(0, 1, n)
    arc = 0.25 + 0.65 * np.sin(np.pi * np.clip(x * 1.15, 0, 1)) ** 2  # builds, peaks late, eases
    cuts = []
    plan = make_plan(seconds, 25.0, cuts, arc, 10.0, tempo_range)
    if len(plan.sections) == 1 and seconds > 24:  # no cuts: split where the arc moves
        from moviola.generate.score.plan import Cut

        marks = [Cut(float(t), 1.0) for t in np.arange(16.0, seconds - 8, 16.0)]
        plan = make_plan(seconds, 25.0, marks, arc, 10.0, tempo_range)
        plan.cuts, plan.hits = [], []
    return _render(plan, mood, style, seed, out, midi=midi, stems=stems, video=None,
                   replace_audio=False)  # fmt: skip
