"""Voice conversion with OpenVoice V2's tone-colour converter (``speak --like REF --convert``).

An upstream-only model (``moviola models fetch openvoice-v2-converter``, 131 MB, MIT): the
store converts its PyTorch checkpoint to two ONNX graphs on fetch (:mod:`moviola.models.openvoice`)
and this module runs them with ONNX Runtime, no torch:

- :func:`extract_tone_color`: a recording's 256-d tone colour (the mean over pieces of about
  10 s, as OpenVoice's ``get_se`` averages its segments);
- :func:`convert_voice`: speech moved from one tone colour to another, in chunks of
  ``CHUNK_FRAMES`` spectrogram frames with ``CONTEXT_FRAMES`` of real neighbouring audio on each
  side (cut away after), so memory does not grow with the length of the audio;
- :func:`reference_tone_color`: a recording file's speech (Silero VAD regions, the first minute)
  to a tone colour; :func:`toward`: the per-sentence conversion ``speak`` applies.

The spectrogram is OpenVoice's ``spectrogram_torch`` computed in numpy: the signal
reflect-padded by (n_fft - hop) / 2 on both sides, frames of n_fft every hop with no centring,
a periodic Hann window of win_length (centred in n_fft), and magnitudes
``sqrt(re^2 + im^2 + 1e-6)``; n_fft, hop, win_length and the rate come from the model's
config.json (1024, 256, 1024, 22050 for V2). The posterior noise is drawn per block of frames
from a seeded generator, so a chunk's noise is the same as in one pass over the whole audio.

The real checkpoint was never run on the project's machines (no internet there): this code is
tested on random-weight models of the same architecture (tests/test_openvoice.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError

MODEL_ID = "openvoice-v2-converter"
CHUNK_FRAMES = 512  # frames converted per model run (about 6 s at 22.05 kHz)
CONTEXT_FRAMES = 96  # real audio on each side of a chunk, cut away after (about 1.1 s)
NOISE_BLOCK = 256  # frames per seeded noise block
DEFAULT_TAU = 0.3  # OpenVoice's default noise scale
PIECE_SECONDS = 10.0  # tone colour averaged over pieces of about this length
MIN_SECONDS = 0.5
CALIBRATION = (
    "The morning light fell softly across the quiet harbor, and the boats rocked gently. "
    "Could you tell me whether the last train has already left the station tonight?"
)


class Settings:
    """The converter's STFT and sizes, from the config.json beside its graphs."""

    def __init__(self, folder: Path) -> None:
        from moviola.models.openvoice import CONFIG_NAME, Hyper

        hp = Hyper.read(folder / CONFIG_NAME)
        self.rate = hp.sampling_rate
        self.n_fft, self.hop, self.win = hp.filter_length, hp.hop_length, hp.win_length
        self.channels = hp.inter_channels
        self.pad = (self.n_fft - self.hop) // 2
        n = np.arange(self.win)
        hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / self.win)  # periodic, as torch.hann_window
        self.window = np.zeros(self.n_fft)
        left = (self.n_fft - self.win) // 2
        self.window[left : left + self.win] = hann

    def frames(self, length: int) -> int:
        """Spectrogram frames of ``length`` samples (torch.stft with center=False)."""
        return max(0, (length + 2 * self.pad - self.n_fft) // self.hop + 1)


class Converter:
    """The two sessions and the settings of a fetched converter (or one at ``model_path``)."""

    def __init__(self, model_path: str | os.PathLike | None = None) -> None:
        from moviola import models
        from moviola.models.openvoice import TONE_COLOR_ONNX

        main = models.ensure(MODEL_ID, model_path)
        self.settings = Settings(main.parent)
        self.convert = models.open_session(main)
        self.tone = models.open_session(main.parent / TONE_COLOR_ONNX)


@cache
def _converter(model_path: str | None) -> Converter:
    return Converter(model_path)


def converter(model_path: str | os.PathLike | None = None) -> Converter:
    """The converter (loaded once per process and path); one line naming ``moviola models
    fetch openvoice-v2-converter`` when it is not downloaded."""
    return _converter(None if model_path is None else str(model_path))


def require_converter() -> None:
    """Raise the store's one-line message (size, license, the fetch command) unless the
    converter is downloaded. Nothing is fetched."""
    from moviola import models

    models.ensure(MODEL_ID)


def spectrogram(samples: np.ndarray, settings: Settings, start: int = 0, stop: int | None = None):
    """Frames ``start``..``stop`` of the linear magnitude spectrogram (bins x frames, float32)
    of ``samples`` (mono, at the converter's rate, longer than (n_fft - hop) / 2), computed
    only from the samples those frames cover."""
    s = settings
    x = np.asarray(samples, np.float32)
    if x.size <= s.pad:
        raise MoviolaError(f"too little audio for a spectrogram ({x.size} samples)")
    stop = s.frames(x.size) if stop is None else stop
    if stop <= start:
        return np.zeros((s.n_fft // 2 + 1, 0), np.float32)
    idx = np.arange(start * s.hop, (stop - 1) * s.hop + s.n_fft) - s.pad
    idx = np.abs(idx)  # reflect at the start (the edge sample not repeated)
    last = x.size - 1
    idx = np.where(idx > last, 2 * last - idx, idx)  # and at the end
    seg = x[idx].astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(seg, s.n_fft)[:: s.hop]
    spec = np.fft.rfft(windows * s.window, axis=1)
    return np.sqrt(spec.real**2 + spec.imag**2 + 1e-6).T.astype(np.float32)


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    x = np.asarray(samples, np.float32).reshape(-1)
    if rate == target:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(x, target // g, rate // g).astype(np.float32)


def extract_tone_color(
    samples: np.ndarray, rate: int, model_path: str | os.PathLike | None = None
) -> np.ndarray:
    """The 256-d tone colour of mono speech ``samples`` at ``rate`` Hz: the mean of the
    extractor's output over pieces of about 10 s (one piece when shorter)."""
    conv = converter(model_path)
    s = conv.settings
    x = _resample(samples, rate, s.rate)
    if x.size < MIN_SECONDS * s.rate:
        raise MoviolaError(
            f"{x.size / s.rate:.2f} s of audio is too little for a tone colour "
            f"(at least {MIN_SECONDS} s)"
        )
    count = max(1, round(x.size / (PIECE_SECONDS * s.rate)))
    edges = np.linspace(0, x.size, count + 1).astype(int)
    colours = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        spec = spectrogram(x[a:b], s)
        out = conv.tone.run({"spec": np.ascontiguousarray(spec.T[None])})
        colours.append(np.asarray(out["tone_color"], np.float32).reshape(-1))
    return np.mean(colours, axis=0).astype(np.float32)


def _noise(seed: int, start: int, stop: int, channels: int) -> np.ndarray:
    """Standard normal noise for frames start..stop, the same whichever chunk asks."""
    blocks = []
    for b in range(start // NOISE_BLOCK, (stop - 1) // NOISE_BLOCK + 1):
        rng = np.random.default_rng([seed, b])
        block = rng.standard_normal((channels, NOISE_BLOCK), dtype=np.float32)
        lo, hi = max(start - b * NOISE_BLOCK, 0), min(stop - b * NOISE_BLOCK, NOISE_BLOCK)
        blocks.append(block[:, lo:hi])
    return np.concatenate(blocks, axis=1)


def iter_convert(
    audio: np.ndarray,
    rate: int,
    source_embedding: np.ndarray,
    target_embedding: np.ndarray,
    *,
    tau: float = DEFAULT_TAU,
    seed: int = 0,
    chunking: tuple[int, int] = (CHUNK_FRAMES, CONTEXT_FRAMES),
    model_path: str | os.PathLike | None = None,
) -> Iterator[np.ndarray]:
    """:func:`convert_voice`'s output piece by piece (at the converter's rate), one model run
    of at most ``chunk + 2 * context`` frames each (``chunking`` = (chunk, context))."""
    chunk_frames, context_frames = chunking
    if chunk_frames < 1 or context_frames < 0:
        raise MoviolaError("chunking needs a chunk of >= 1 frame and a context of >= 0")
    conv = converter(model_path)
    s = conv.settings
    x = _resample(audio, rate, s.rate)
    length = x.size
    if length == 0:
        return
    if length < s.n_fft:
        x = np.concatenate([x, np.zeros(s.n_fft - length, np.float32)])
    src = _embedding(source_embedding, "source")
    tgt = _embedding(target_embedding, "target")
    total = s.frames(x.size)
    made = 0
    for c0 in range(0, total, chunk_frames):
        c1 = min(total, c0 + chunk_frames)
        g0, g1 = max(0, c0 - context_frames), min(total, c1 + context_frames)
        feeds: dict[str, Any] = {
            "spec": spectrogram(x, s, g0, g1)[None],
            "lengths": np.array([g1 - g0], np.int64),
            "source": src,
            "target": tgt,
            "noise": _noise(seed, g0, g1, s.channels)[None],
            "tau": np.array([tau], np.float32),
        }
        out = np.asarray(conv.convert.run(feeds)["audio"], np.float32).reshape(-1)
        piece = out[(c0 - g0) * s.hop : (c1 - g0) * s.hop][: length - made]
        made += piece.size
        yield piece
    if made < length:  # the last part of a hop the frames do not reach
        yield np.zeros(length - made, np.float32)


def convert_voice(
    audio: np.ndarray,
    rate: int,
    source_embedding: np.ndarray,
    target_embedding: np.ndarray,
    *,
    tau: float = DEFAULT_TAU,
    seed: int = 0,
    chunking: tuple[int, int] = (CHUNK_FRAMES, CONTEXT_FRAMES),
    model_path: str | os.PathLike | None = None,
) -> tuple[np.ndarray, int]:
    """Mono speech ``audio`` at ``rate`` Hz moved from the tone colour ``source_embedding``
    (the speaker's own) to ``target_embedding``: (audio, rate) at the converter's rate
    (22.05 kHz), as long as the input. ``tau`` scales the posterior noise (OpenVoice's
    default 0.3), ``seed`` draws it; ``chunking`` is (frames per model run, frames of context
    on each side)."""
    pieces = list(
        iter_convert(
            audio,
            rate,
            source_embedding,
            target_embedding,
            tau=tau,
            seed=seed,
            chunking=chunking,
            model_path=model_path,
        )
    )
    out = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return out, converter(model_path).settings.rate


def _embedding(e: np.ndarray, what: str) -> np.ndarray:
    v = np.asarray(e, np.float32).reshape(-1)
    if v.size != 256 or not np.all(np.isfinite(v)):
        raise MoviolaError(f"the {what} tone colour must be 256 finite numbers (got {v.size})")
    return v[None]


def reference_tone_color(
    path: str | os.PathLike, model_path: str | os.PathLike | None = None
) -> np.ndarray:
    """The tone colour of a recording's speech: its first minute decoded at the converter's
    rate, the regions the voice activity detector hears kept (at least 2 s)."""
    from .match import reference_speech

    rate = converter(model_path).settings.rate
    speech = reference_speech(path, rate, why="--convert")
    return extract_tone_color(speech, rate, model_path)


def toward(
    reference: str | os.PathLike,
    voice: Any,
    speed: float = 1.0,
    model_path: str | os.PathLike | None = None,
) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    """The conversion ``speak --convert`` applies to each sentence: from ``voice``'s own tone
    colour (measured once on a fixed calibration text it speaks) to ``reference``'s."""
    from .engines import engine

    target = reference_tone_color(reference, model_path)
    said = engine(voice.engine).say(CALIBRATION, voice, speed)
    source = extract_tone_color(said.audio, said.sample_rate, model_path)

    def apply(audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        return convert_voice(audio, rate, source, target, model_path=model_path)

    return apply
