"""A latent walk planned and rendered: frame count, keyframes (on the beats of a song when one is
given), the generator's images batch by batch, resized or upscaled, written with the audio.

Memory does not grow with the video's length: frames are generated ``batch`` at a time and
written at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola import __version__
from moviola.errors import MoviolaError
from moviola.generate.beats import Beats
from moviola.generate.latentwalk.generator import GeneratorModel
from moviola.generate.latentwalk.paths import (
    LatentPath,
    beat_positions,
    keyframe_positions,
    seed_latent,
)
from moviola.generate.latentwalk.settings import DEFAULT_SECONDS, CheckedSettings, WalkSettings
from moviola.media.frame import Frame, StreamInfo, cover
from moviola.pipeline import Effect, Progress


@dataclass
class Plan:
    frames: int
    fps: Fraction
    path: LatentPath
    beats: Beats | None = None  # when audio is given
    audio_index: int | None = None
    audio_offset: Fraction = Fraction(0)  # seconds of the audio before the walk's frame 0

    @property
    def keyframes(self) -> list[int]:
        return [int(p) for p in self.path.positions]


def _beats(s: CheckedSettings) -> tuple[Beats | None, int | None]:
    """The beats of the settings' audio (and its stream index); None without audio."""
    if s.audio is None:
        return None, None
    from moviola.generate.beats import detect_beats
    from moviola.media.probe import probe

    info = probe(s.audio)
    if not info.audio:
        raise MoviolaError(f"{s.audio} has no audio stream")
    audio_index = info.audio[0].index
    return detect_beats(s.audio, bpm=s.bpm, stream_index=audio_index), audio_index


def _loop_on_beats(
    beats: Beats, s: CheckedSettings, fps: Fraction
) -> tuple[int, Fraction, np.ndarray]:
    """A loop on the beat: it starts on a beat and ends on a later one, so the frame after the
    last is a beat too, and the audio repeats in time with the picture. Its frame count, the
    audio's offset, and the keyframe beats' frames."""
    picked = beats.times[:: s.beats_per_key]
    limit = s.seconds if s.seconds is not None else beats.duration - beats.times[0]
    inside = picked[picked - picked[0] <= limit + 1e-9] if len(picked) else picked
    if len(inside) < 2:
        raise MoviolaError(
            "a loop on the beat needs two keyframe beats within its length: give more "
            "--seconds or a smaller --beats-per-key"
        )
    offset = Fraction(float(inside[0])).limit_denominator(1_000_000)
    frames = int(round((inside[-1] - inside[0]) * fps))
    beat_frames = np.round((inside - inside[0]) * float(fps)).astype(int)
    return frames, offset, beat_frames


def _positions(s: CheckedSettings, frames: int, fps: Fraction, beats: Beats | None) -> np.ndarray:
    """Keyframe positions of a walk that is not a loop on the beat."""
    closed = s.closed
    if beats is not None:
        beat_frames = np.round(beats.times * float(fps)).astype(int)
        return beat_positions(beat_frames, frames, closed, s.beats_per_key)
    if s.path == "seeds":
        n = len(s.seeds)
        positions = keyframe_positions(frames, count=n if closed else n - 1, closed=closed)
        if len(positions) != (n + 1 if closed else n):
            raise MoviolaError(f"{n} seeds need at least {n if closed else n} frames")
        return positions
    return keyframe_positions(frames, step=s.every * float(fps), closed=closed)


def _keys(s: CheckedSettings, count: int, latent_size: int) -> np.ndarray:
    """``count`` keyframe latents: the seeds' (repeated in turn), or random ones at the length
    typical of the latent distribution."""
    if s.path == "seeds":
        seeds = [s.seeds[i % len(s.seeds)] for i in range(count)]
        keys = np.stack([seed_latent(x, latent_size) for x in seeds])
    else:
        rng = np.random.default_rng(s.seed)
        keys = rng.standard_normal((count, latent_size))
        keys *= np.sqrt(latent_size) / np.linalg.norm(keys, axis=1, keepdims=True)
    if s.closed:
        keys[-1] = keys[0]
    return keys


def plan(settings: CheckedSettings, latent_size: int) -> Plan:
    """Frame count and latent path for checked ``settings`` (audio analysed here)."""
    s = settings
    fps = Fraction(s.fps)
    beats, audio_index = _beats(s)
    offset = Fraction(0)
    beat_frames = None
    if beats is not None and s.closed:
        frames, offset, beat_frames = _loop_on_beats(beats, s, fps)
    elif s.seconds is not None:
        frames = int(round(s.seconds * fps))
    elif beats is not None:
        frames = int(np.floor(beats.duration * fps))
    else:
        frames = int(round(DEFAULT_SECONDS * fps))
    if frames < 2:
        raise MoviolaError("the walk is shorter than two frames: give more seconds")
    if beat_frames is not None:
        positions = beat_positions(beat_frames, frames, s.closed)
    else:
        positions = _positions(s, frames, fps, beats)
    keys = _keys(s, len(positions), latent_size)
    path = LatentPath(keys, positions, interp=s.interp, ease=s.ease, closed=s.closed)
    return Plan(frames, fps, path, beats, audio_index, offset)


# --- rendering ----------------------------------------------------------------------------------


@dataclass
class WalkResult:
    output: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    seconds: float  # wall-clock time taken
    keyframes: list[int]
    bpm: float | None
    beats: int
    audio: str | None  # "re-encoded" / "copied" / None

    @property
    def speed(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class Walk:
    """A planned walk: its generator, latent path and frame count; renders in batches."""

    def __init__(self, settings: WalkSettings, generator: GeneratorModel | None = None) -> None:
        self.settings = settings.validated()
        s = self.settings
        self.generator = generator or GeneratorModel(s.model, s.model_range)
        self.plan = plan(s, self.generator.latent_size)
        self._upscale: Effect | None = None
        self.size = (self.generator.width, self.generator.height)
        if s.upscale is not None:
            from moviola.pipeline import create

            values: dict = {"model": s.upscale}
            if s.size is not None:
                factor = max(s.size[0] / self.size[0], s.size[1] / self.size[1])
                values["scale"] = max(1.0, factor)
            effect = create("upscale", **values)
            info = effect.configure(self._info(*self.size))
            self._upscale = effect
            self.size = (info.width, info.height)
        if s.size is not None:
            self.size = (s.size[0], s.size[1])

    @property
    def frames(self) -> int:
        return self.plan.frames

    def _info(self, width: int, height: int) -> StreamInfo:
        fps = self.plan.fps
        return StreamInfo(
            width=width,
            height=height,
            rate=fps,
            time_base=1 / fps,
            frames=self.plan.frames,
            duration=self.plan.frames / fps,
        )

    def latents(self, frames: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.plan.path(frames)

    def raw_images(self, frames: Sequence[int] | np.ndarray) -> np.ndarray:
        """The generator's images (N x h x w x 3 uint8) at the given frame numbers."""
        return self.generator(self.latents(frames))

    def images(self, frames: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        """Output frames (at the output size) at the given frame numbers."""
        out = []
        fps = self.plan.fps
        for i, image in zip(frames, self.raw_images(frames), strict=True):
            if self._upscale is not None:
                frame = Frame(image, Fraction(int(i)) / fps, 1 / fps, int(i))
                result = self._upscale.process(frame)
                assert isinstance(result, Frame)  # upscale: one frame out per frame in
                image = result.image
            out.append(cover(image, self.size, enlarge=cv2.INTER_LANCZOS4))
        return out

    def _comment(self) -> str:
        s = self.settings
        return (
            f"moviola latentwalk: model {self.generator.name}, path {s.path}"
            f"{' (closed)' if s.closed else ''}, interp {s.interp}, seed {s.seed}"
            + (f", seeds {','.join(map(str, s.seeds))}" if s.seeds else "")
        )

    def render(
        self,
        output: str | os.PathLike,
        *,
        codec: str | None = None,
        crf: int | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> WalkResult:
        """Write the walk to ``output`` (video, GIF, WebP or a PNG folder), with the audio."""
        from moviola.media import AudioSource, Timeline, VideoWriter

        s, p = self.settings, self.plan
        fps = p.fps
        audio = None
        if s.audio is not None and p.beats is not None and p.audio_index is not None:
            audio = AudioSource(
                str(s.audio),
                p.audio_index,
                p.beats.start + p.audio_offset,
                Timeline(end=p.frames / fps),
            )
        writer = VideoWriter(
            output,
            self._info(*self.size),
            codec=codec,
            crf=crf,
            audio=audio,
            metadata={
                "comment": self._comment(),
                "moviola_synthetic": f"video; latentwalk; moviola {__version__}",
            },
        )
        started = time.monotonic()
        try:
            for start in range(0, p.frames, s.batch):
                idx = np.arange(start, min(p.frames, start + s.batch))
                for i, image in zip(idx, self.images(idx), strict=True):
                    writer.write(Frame(image, Fraction(int(i)) / fps, 1 / fps, int(i)))
                if progress is not None:
                    progress(Progress(int(idx[-1]) + 1, p.frames, time.monotonic() - started))
            path = writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            if self._upscale is not None:
                self._upscale.close()
        from moviola.media import provenance

        provenance.sign(path, kind="video", tool="latentwalk")  # GAN-made: C2PA-signed
        elapsed = time.monotonic() - started
        if progress is not None:
            progress(Progress(p.frames, p.frames, elapsed, done=True))
        return WalkResult(
            output=path,
            frames=p.frames,
            width=self.size[0],
            height=self.size[1],
            fps=fps,
            seconds=elapsed,
            keyframes=p.keyframes,
            bpm=None if p.beats is None else float(p.beats.bpm),
            beats=0 if p.beats is None else len(p.beats.times),
            audio=writer.audio_mode,
        )


def render(output: str | os.PathLike, settings: WalkSettings | None = None, **kw) -> WalkResult:
    """Plan and write a latent walk: ``render("walk.mp4", path="loop", seconds=4)``."""
    codec, crf, progress = kw.pop("codec", None), kw.pop("crf", None), kw.pop("progress", None)
    settings = settings or WalkSettings(**kw)
    return Walk(settings).render(output, codec=codec, crf=crf, progress=progress)
