"""Latent walks: videos of a generator's images along a smooth path through its latent space.

A walk is a set of **keyframes** (latent vectors pinned to frame numbers) and a way to travel
between them. Keyframes always sit on whole frames, so the frame at a keyframe shows exactly
that keyframe's image.

Paths (``path``):

``random``  random keyframes every ``every`` seconds (or on the beats), joined by a spline:
            an endless smooth drift.
``loop``    the same, closed: the last keyframe is the first, the spline wraps around, and the
            frame after the last one would be frame 0 again, so the video repeats seamlessly
            (the last-to-first step is as small as any other step).
``seeds``   keyframes from chosen seeds (``seeds=[1, 7, 42]``: the latent of seed ``s`` is
            ``numpy.random.default_rng(s).standard_normal(Z)``), ``closed`` to come back to the
            first.

Travel between keyframes (``interp``): ``linear``, ``slerp`` (spherical: the path keeps the
length typical of the latent distribution instead of cutting through its low-density centre)
or ``spline`` (Catmull-Rom through all keyframes, continuous velocity, its length
re-normalised to the keyframes'). ``ease`` shapes each segment in time: ``none`` (even speed),
``smooth`` (slow at both keyframes) or ``pulse`` (a burst of motion leaving each keyframe,
settling before the next: on beats, the motion kicks on the beat).

With ``audio``, beats are found (moviola.generate.beats), a keyframe is placed on every
``beats_per_key``-th beat (rounded to the nearest frame), and the audio is muxed into the output,
trimmed to the video's length.

The generator (``model``) is the built-in ``dcgan-faces64`` (64x64 faces) or any ONNX file with
one input, a latent of shape [N, Z] or [N, Z, 1, 1], and an NCHW image out in -1..1 or 0..1
(``model_range``, else found by a probe). Frames are generated ``batch`` at a time, resized
(Lanczos) or upscaled (the ``upscale`` effect) and written at once: memory does not grow with
the video's length.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError

BUILTIN = "dcgan-faces64"
PATHS = ("random", "loop", "seeds")
INTERPS = ("linear", "slerp", "spline")
EASES = ("none", "smooth", "pulse")
RANGES = {
    "-1..1": "signed",
    "0..1": "unit",
    "signed": "signed",
    "unit": "unit",
    "tanh": "signed",
    "-1,1": "signed",
    "0,1": "unit",
}
DEFAULT_SECONDS = 8.0
DEFAULT_FPS = Fraction(24)
DEFAULT_EVERY = 2.0
DEFAULT_UPSCALE = "realesr-animevideov3"


def seed_latent(seed: int, size: int) -> np.ndarray:
    """The latent vector of a seed: ``size`` standard normal numbers (float32)."""
    return np.random.default_rng(int(seed)).standard_normal(size).astype(np.float32)


# --- the generator ------------------------------------------------------------------------------


class GeneratorModel:
    """An image generator behind ONNX Runtime: latents (N x Z) -> uint8 images (N x H x W x 3)."""

    def __init__(self, model: str | os.PathLike | None = None, output_range: str | None = None):
        from moviola.models.runtime import open_session

        if model is None:
            source: str | Path = BUILTIN
        else:
            source = Path(model).expanduser()
            if not source.is_file():
                raise MoviolaError(f"generator model not found: {model}")
            if source.suffix.lower() != ".onnx":
                raise MoviolaError(f"generator model must be an .onnx file, not {source.name}")
        self.name = BUILTIN if model is None else Path(model).name
        self.session = open_session(source)
        if len(self.session.inputs) != 1:
            raise MoviolaError(
                f"generator {self.name} must take one input (a latent); it takes "
                f"{', '.join(self.session.input_names)}"
            )
        shape = self.session.inputs[0].shape
        self.input = self.session.inputs[0].name
        self.output = self.session.output_names[0]
        size = shape[1] if len(shape) in (2, 4) else None
        if (
            not isinstance(size, int)
            or size <= 0
            or (len(shape) == 4 and any(isinstance(d, int) and d != 1 for d in shape[2:]))
        ):
            raise MoviolaError(
                f"generator {self.name}: its input {self.input} has shape {list(shape)}; "
                "expected [N, Z] or [N, Z, 1, 1] with a fixed latent size Z"
            )
        self.latent_size = int(size)
        self._rank = len(shape)
        if output_range is None:
            self.range = "signed" if model is None else None
        else:
            key = str(output_range).strip().lower()
            if key not in RANGES:
                raise MoviolaError(f"model range must be -1..1 or 0..1, not {output_range!r}")
            self.range = RANGES[key]
        probe = self._raw(seed_latent(0, self.latent_size * 4).reshape(4, self.latent_size))
        if self.range is None:  # a tanh output reaches below zero, a sigmoid one never does
            self.range = "signed" if float(probe.min()) < -0.01 else "unit"
        self.height, self.width = probe.shape[2:]

    def _raw(self, latents: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(latents, np.float32)
        if self._rank == 4:
            x = x.reshape(len(x), self.latent_size, 1, 1)
        out = np.asarray(self.session.run({self.input: x})[self.output])
        if out.ndim != 4 or out.shape[0] != len(x) or out.shape[1] not in (1, 3, 4):
            raise MoviolaError(
                f"generator {self.name} gave {tuple(out.shape)} for {len(x)} latents; "
                "expected N x 3 x H x W (NCHW, RGB)"
            )
        return out

    def __call__(self, latents: np.ndarray) -> np.ndarray:
        out = self._raw(latents)[:, :3].astype(np.float32)
        if out.shape[1] == 1:
            out = np.repeat(out, 3, axis=1)
        if self.range == "signed":
            out = (out + 1.0) * 0.5
        rgb = np.clip(out.transpose(0, 2, 3, 1) * 255.0 + 0.5, 0, 255)
        return rgb.astype(np.uint8)


# --- paths through latent space -----------------------------------------------------------------


def _ease(u: np.ndarray, kind: str) -> np.ndarray:
    if kind == "smooth":
        return u * u * (3 - 2 * u)
    if kind == "pulse":
        return 1 - (1 - u) ** 3
    return u


def _slerp(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spherical interpolation row by row (lengths interpolated linearly)."""
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    cos = np.clip(np.sum(a * b, axis=1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    s = np.sin(omega)
    straight = s < 1e-6
    safe = np.where(straight, 1.0, s)
    wa = np.where(straight, 1 - u, np.sin((1 - u) * omega) / safe)
    wb = np.where(straight, u, np.sin(u * omega) / safe)
    return wa * a + wb * b


@dataclass
class LatentPath:
    """Keyframes ``keys[j]`` at frames ``positions[j]`` (increasing integers; for a closed path
    ``keys[-1] == keys[0]`` and the last position is the frame after the video's last)."""

    keys: np.ndarray
    positions: np.ndarray
    interp: str = "spline"
    ease: str = "none"
    closed: bool = False
    _tangents: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.keys = np.asarray(self.keys, np.float64)
        self.positions = np.asarray(self.positions, np.int64)
        if len(self.keys) != len(self.positions) or len(self.keys) < 2:
            raise MoviolaError("a latent path needs at least two keyframes")
        if np.any(np.diff(self.positions) <= 0):
            raise MoviolaError("keyframes must be on increasing frames (too many for the frames?)")
        if self.interp not in INTERPS:
            raise MoviolaError(f"interp must be one of {', '.join(INTERPS)}")
        if self.ease not in EASES:
            raise MoviolaError(f"ease must be one of {', '.join(EASES)}")
        self._tangents = self._catmull_rom_tangents()

    def _catmull_rom_tangents(self) -> np.ndarray:
        k, t = self.keys, self.positions.astype(np.float64)
        m = np.empty_like(k)
        if len(k) > 2:
            m[1:-1] = (k[2:] - k[:-2]) / (t[2:] - t[:-2])[:, None]
        if self.closed and len(k) > 2:
            m[0] = m[-1] = (k[1] - k[-2]) / ((t[1] - t[0]) + (t[-1] - t[-2]))
        else:
            m[0] = (k[1] - k[0]) / (t[1] - t[0])
            m[-1] = (k[-1] - k[-2]) / (t[-1] - t[-2])
        return m

    def __call__(self, frames: Sequence[int] | np.ndarray) -> np.ndarray:
        """Latents (len(frames) x Z, float32) at the given frame numbers."""
        f = np.asarray(frames, np.float64)
        pos = self.positions
        j = np.clip(np.searchsorted(pos, f, side="right") - 1, 0, len(pos) - 2)
        span = (pos[j + 1] - pos[j]).astype(np.float64)
        u = np.clip((f - pos[j]) / span, 0.0, 1.0)
        e = _ease(u, self.ease)[:, None]
        a, b = self.keys[j], self.keys[j + 1]
        if self.interp == "linear":
            out = (1 - e) * a + e * b
        elif self.interp == "slerp":
            out = _slerp(a, b, e)
        else:
            h00 = 2 * e**3 - 3 * e**2 + 1
            h10 = e**3 - 2 * e**2 + e
            h01 = -2 * e**3 + 3 * e**2
            h11 = e**3 - e**2
            m = self._tangents
            out = h00 * a + h10 * span[:, None] * m[j] + h01 * b + h11 * span[:, None] * m[j + 1]
            # back to the keyframes' length (a chord through latent space is too short)
            want = (1 - e) * np.linalg.norm(a, axis=1, keepdims=True) + e * np.linalg.norm(
                b, axis=1, keepdims=True
            )
            out *= want / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        # keyframes exactly
        out = np.where((e == 0), a, np.where(e == 1, b, out))
        return out.astype(np.float32)


def keyframe_positions(
    frames: int, count: int | None = None, step: float | None = None, closed: bool = False
) -> np.ndarray:
    """Keyframe frames covering ``frames`` frames: ``count`` evenly spaced keyframes, or one
    every ``step`` frames. Open paths end on the last frame, closed ones on the frame after."""
    end = frames if closed else frames - 1
    if end < 1:
        raise MoviolaError("a walk needs at least two frames")
    if count is None:
        count = max(1, int(round(end / max(step or 1.0, 1.0))))
        if closed:
            count = max(3, count)
    count = min(count, end)
    return np.round(np.arange(count + 1) * end / count).astype(np.int64)


def beat_positions(
    beat_frames: Sequence[int], frames: int, closed: bool, every: int = 1
) -> np.ndarray:
    """Keyframes on every ``every``-th beat frame, plus the start and the end of the walk."""
    end = frames if closed else frames - 1
    if end < 1:
        raise MoviolaError("a walk needs at least two frames")
    picked = sorted({int(b) for b in list(beat_frames)[:: max(1, every)] if 0 < b < end})
    return np.array([0, *picked, end], np.int64)


# --- settings and planning ----------------------------------------------------------------------


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"640x480"`` -> (640, 480); ``"512"`` -> (512, 512)."""
    if text is None:
        return None
    raw = str(text).lower().replace(" ", "")
    parts = raw.split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise MoviolaError(f"size must be WIDTHxHEIGHT or one number, not {text!r}") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 2 or max(values) > 8192:
        raise MoviolaError(f"size must be WIDTHxHEIGHT between 2 and 8192, not {text!r}")
    return values[0], values[1]


def parse_seeds(text: str | Sequence[int] | None) -> list[int]:
    if text is None:
        return []
    if isinstance(text, str):
        items = [s for s in text.replace(" ", "").split(",") if s]
    else:
        items = list(text)
    try:
        seeds = [int(s) for s in items]
    except (TypeError, ValueError):
        raise MoviolaError(f"seeds must be whole numbers separated by commas: {text!r}") from None
    if any(s < 0 for s in seeds):
        raise MoviolaError("seeds must not be negative")
    return seeds


@dataclass
class WalkSettings:
    """Everything a latent walk takes (the CLI's options)."""

    model: str | None = None
    model_range: str | None = None
    path: str | None = None  # None: "seeds" when seeds are given, else "random"
    seeds: Sequence[int] | str | None = None
    loop: bool = False  # close a random or seeds path
    interp: str | None = None  # None: slerp for seeds, spline otherwise
    ease: str | None = None  # None: pulse with audio, else none
    seconds: float | None = None
    fps: Fraction | str | float = DEFAULT_FPS
    size: tuple[int, int] | str | None = None
    upscale: str | None = None  # an upscale model name (or "lanczos"); None: no upscale effect
    audio: str | None = None
    bpm: float | None = None
    beats_per_key: int = 1
    every: float = DEFAULT_EVERY
    seed: int = 0
    batch: int = 16

    def validated(self) -> WalkSettings:
        from moviola.media.time import parse_rate

        s = WalkSettings(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        s.seeds = parse_seeds(s.seeds)
        if s.path is None:
            s.path = "seeds" if s.seeds else "random"
        if s.path not in PATHS:
            raise MoviolaError(f"path must be one of {', '.join(PATHS)}, not {s.path!r}")
        if s.path == "seeds":
            if not s.seeds:
                raise MoviolaError("path seeds needs --seeds, e.g. --seeds 1,7,42")
            if len(s.seeds) < 2:
                raise MoviolaError("give at least two seeds to walk between")
        elif s.seeds:
            raise MoviolaError(f"--seeds is for path seeds, not {s.path}")
        if s.interp is None:
            s.interp = "slerp" if s.path == "seeds" else "spline"
        if s.interp not in INTERPS:
            raise MoviolaError(f"interp must be one of {', '.join(INTERPS)}, not {s.interp!r}")
        if s.ease is None:
            s.ease = "pulse" if s.audio else "none"
        if s.ease not in EASES:
            raise MoviolaError(f"ease must be one of {', '.join(EASES)}, not {s.ease!r}")
        s.fps = parse_rate(s.fps)
        if s.fps > 240:
            raise MoviolaError(f"fps must be at most 240, not {s.fps}")
        if s.seconds is not None:
            s.seconds = float(s.seconds)
            if not 0 < s.seconds <= 3600:
                raise MoviolaError(f"seconds must be more than 0 and at most 3600: {s.seconds}")
        if isinstance(s.size, str):
            s.size = parse_size(s.size)
        if not 1 <= int(s.batch) <= 1024:
            raise MoviolaError(f"batch must be between 1 and 1024: {s.batch}")
        s.batch = int(s.batch)
        if not 0.1 <= float(s.every) <= 600:
            raise MoviolaError(f"every must be between 0.1 and 600 seconds: {s.every}")
        if int(s.beats_per_key) < 1:
            raise MoviolaError("beats per keyframe must be at least 1")
        if s.bpm is not None and not s.audio:
            raise MoviolaError("--bpm needs --audio")
        if s.audio is not None and not Path(s.audio).expanduser().is_file():
            raise MoviolaError(f"audio file not found: {s.audio}")
        if s.upscale is not None:
            from moviola.pipeline import registry

            choices = next(p.choices for p in registry.get("upscale").params if p.name == "model")
            if s.upscale not in choices:
                raise MoviolaError(
                    f"upscale model must be one of {', '.join(choices)}, not {s.upscale!r}"
                )
        return s

    @property
    def closed(self) -> bool:
        return self.path == "loop" or bool(self.loop)


@dataclass
class Plan:
    frames: int
    fps: Fraction
    path: LatentPath
    beats: object | None = None  # moviola.generate.beats.Beats when audio is given
    audio_index: int | None = None
    audio_offset: Fraction = Fraction(0)  # seconds of the audio before the walk's frame 0

    @property
    def keyframes(self) -> list[int]:
        return [int(p) for p in self.path.positions]


def plan(settings: WalkSettings, latent_size: int) -> Plan:
    """Frame count and latent path for validated ``settings`` (audio analysed here)."""
    s = settings
    fps = Fraction(s.fps)
    beats = None
    audio_index = None
    if s.audio is not None:
        from moviola.generate.beats import detect_beats
        from moviola.media.probe import probe

        info = probe(s.audio)
        if not info.audio:
            raise MoviolaError(f"{s.audio} has no audio stream")
        audio_index = info.audio[0].index
        beats = detect_beats(s.audio, bpm=s.bpm, stream_index=audio_index)
    closed = s.closed
    offset = Fraction(0)
    if beats is not None and closed:
        # a loop on the beat: it starts on a beat and ends on a later one, so the frame after
        # the last is a beat too, and the audio repeats in time with the picture
        picked = beats.times[:: int(s.beats_per_key)]
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
    elif s.seconds is not None:
        frames = int(round(s.seconds * fps))
    elif beats is not None:
        frames = int(np.floor(beats.duration * fps))
    else:
        frames = int(round(DEFAULT_SECONDS * fps))
    if frames < 2:
        raise MoviolaError("the walk is shorter than two frames: give more seconds")
    if beats is not None and closed:
        positions = beat_positions(beat_frames, frames, closed)
    elif beats is not None:
        beat_frames = np.round(beats.times * float(fps)).astype(int)
        positions = beat_positions(beat_frames, frames, closed, int(s.beats_per_key))
    elif s.path == "seeds":
        n = len(s.seeds)
        positions = keyframe_positions(frames, count=n if closed else n - 1, closed=closed)
        if len(positions) != (n + 1 if closed else n):
            raise MoviolaError(f"{n} seeds need at least {n if closed else n} frames")
    else:
        positions = keyframe_positions(frames, step=float(s.every) * float(fps), closed=closed)
    count = len(positions)
    if s.path == "seeds":
        seeds = [s.seeds[i % len(s.seeds)] for i in range(count)]
        keys = np.stack([seed_latent(x, latent_size) for x in seeds])
    else:
        rng = np.random.default_rng(int(s.seed))
        keys = rng.standard_normal((count, latent_size))
        keys *= np.sqrt(latent_size) / np.linalg.norm(keys, axis=1, keepdims=True)
    if closed:
        keys[-1] = keys[0]
    path = LatentPath(keys, positions, interp=s.interp, ease=s.ease, closed=closed)
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


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (Lanczos; area when reducing) to cover ``size`` and crop the centre."""
    w, h = size
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return image
    scale = max(w / iw, h / ih)
    cw, ch = max(w, int(round(iw * scale))), max(h, int(round(ih * scale)))
    mode = cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4
    big = cv2.resize(image, (cw, ch), interpolation=mode)
    x0, y0 = (cw - w) // 2, (ch - h) // 2
    return np.ascontiguousarray(big[y0 : y0 + h, x0 : x0 + w])


class Walk:
    """A planned walk: its generator, latent path and frame count; renders in batches."""

    def __init__(self, settings: WalkSettings, generator: GeneratorModel | None = None) -> None:
        self.settings = settings.validated()
        self.generator = generator or GeneratorModel(self.settings.model, self.settings.model_range)
        self.plan = plan(self.settings, self.generator.latent_size)
        self._upscale = None
        self.size = (self.generator.width, self.generator.height)
        s = self.settings
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
            self.size = tuple(s.size)

    @property
    def frames(self) -> int:
        return self.plan.frames

    def _info(self, width: int, height: int):
        from moviola.media.frame import StreamInfo

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
        from moviola.media.frame import Frame

        out = []
        fps = self.plan.fps
        for i, image in zip(frames, self.raw_images(frames), strict=True):
            if self._upscale is not None:
                frame = Frame(image, Fraction(int(i)) / fps, 1 / fps, int(i))
                image = self._upscale.process(frame).image
            out.append(_cover(image, self.size))
        return out

    def render(
        self,
        output: str | os.PathLike,
        *,
        codec: str | None = None,
        crf: int | None = None,
        progress: Callable | None = None,
    ) -> WalkResult:
        """Write the walk to ``output`` (video, GIF, WebP or a PNG folder), with the audio."""
        from moviola.media import AudioSource, Timeline, VideoWriter
        from moviola.media.frame import Frame
        from moviola.pipeline import Progress

        s, p = self.settings, self.plan
        fps = p.fps
        audio = None
        if s.audio is not None:
            audio = AudioSource(
                str(s.audio),
                p.audio_index,
                p.beats.start + p.audio_offset,
                Timeline(end=p.frames / fps),
            )
        meta = {
            "comment": (
                f"moviola latentwalk: model {self.generator.name}, path {s.path}"
                f"{' (closed)' if s.closed else ''}, interp {s.interp}, seed {s.seed}"
                + (f", seeds {','.join(map(str, s.seeds))}" if s.seeds else "")
            )
        }
        writer = VideoWriter(
            output, self._info(*self.size), codec=codec, crf=crf, audio=audio, metadata=meta
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
