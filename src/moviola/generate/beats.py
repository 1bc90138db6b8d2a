"""Beat tracking in numpy: onset envelope, tempo, beat times (no librosa needed).

The method is the classic one (Ellis, "Beat Tracking by Dynamic Programming", 2007):

1. **Onset envelope.** The audio, mono at 22.05 kHz, is cut into Hann windows of 1024 samples
   every 128 samples (5.8 ms). Each window's magnitude spectrum is pooled into 64 bands spaced
   evenly on the mel scale (30 Hz to 11 kHz) and log-compressed; the envelope is the spectral
   flux: the sum over bands of how much each band grew since the previous window (increases
   only). A slow moving average (0.5 s) is subtracted, so only sudden rises remain. The audio is
   decoded and analysed in chunks: memory holds the envelope, not the samples.
2. **Tempo.** The envelope's autocorrelation over periods of 0.25 to 2 s (30 to 240 BPM),
   weighted by a log-normal preference around 120 BPM (one octave wide), gives the beat period;
   the peak is refined by a parabola through its neighbours. When the autocorrelation at half
   that period is nearly as strong, the envelope repeats at the shorter period too, and the
   faster tempo is taken.
3. **Beats.** Dynamic programming picks the sequence of instants that best balances landing on
   strong onsets against keeping the spacing near the period: the score of a beat at ``t`` is
   its (smoothed) onset strength plus the best score of a previous beat at ``t - d`` for ``d``
   between half and twice the period, penalised by ``tightness * log(d / period)**2``. The best
   final beat is traced back. Beats in leading or trailing silence are dropped.

Times are in seconds from the first decoded sample. ``ONSET_BIAS`` corrects the envelope's
systematic lead on sharp attacks (a window sees an attack before its centre reaches it),
measured on click tracks (bench/latentwalk.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.pcm import decode_mono

RATE = 22050
N_FFT = 1024
HOP = 128
BANDS = 64
FMIN, FMAX = 30.0, 11000.0
#: Seconds added to envelope frame times: sharp attacks show in the flux before the window's
#: centre reaches them (measured on click tracks, bench/latentwalk.py).
ONSET_BIAS = 0.012
MIN_BPM, MAX_BPM = 30.0, 240.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
TIGHTNESS = 100.0
#: Half the period is preferred when its autocorrelation reaches this share of the peak's.
HALF_PERIOD_SHARE = 0.9


@dataclass(frozen=True)
class Beats:
    """Beat times (seconds from the audio's start) and the tempo they follow."""

    times: np.ndarray
    bpm: float
    duration: float  # seconds of audio analysed
    start: Fraction  # source time of the first sample (the audio stream's start)


# --- onset envelope -----------------------------------------------------------------------------


def _mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def band_matrix(rate: int = RATE, n_fft: int = N_FFT, bands: int = BANDS) -> np.ndarray:
    """Triangular filters (bands x bins) spaced evenly on the mel scale."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    edges_mel = np.linspace(_mel(np.array(FMIN)), _mel(np.array(min(FMAX, rate / 2))), bands + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    m = np.zeros((bands, len(freqs)), np.float32)
    for b in range(bands):
        lo, mid, hi = edges[b : b + 3]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        m[b] = np.clip(np.minimum(up, down), 0, None)
    return m


class OnsetEnvelope:
    """Streaming spectral flux: feed mono chunks, read ``envelope`` at ``rate / hop`` Hz."""

    def __init__(self, rate: int = RATE, n_fft: int = N_FFT, hop: int = HOP) -> None:
        self.rate, self.n_fft, self.hop = rate, n_fft, hop
        self.window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
        self.bands = band_matrix(rate, n_fft)
        self._buf = np.zeros(n_fft // 2, np.float32)  # centred frames: half a window of silence
        self._prev: np.ndarray | None = None
        self._parts: list[np.ndarray] = []
        self.samples = 0

    def feed(self, chunk: np.ndarray) -> None:
        self.samples += len(chunk)
        self._buf = np.concatenate((self._buf, chunk.astype(np.float32, copy=False)))
        self._drain()

    def _drain(self) -> None:
        count = (len(self._buf) - self.n_fft) // self.hop + 1
        if count <= 0:
            return
        idx = np.arange(self.n_fft)[None, :] + self.hop * np.arange(count)[:, None]
        frames = self._buf[idx] * self.window
        spec = np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32) * (2.0 / self.window.sum())
        logs = np.log1p(1000.0 * (spec @ self.bands.T))
        prev = logs[:1] if self._prev is None else self._prev[None]
        flux = np.maximum(np.diff(np.concatenate((prev, logs)), axis=0), 0).sum(axis=1)
        self._parts.append(flux.astype(np.float32))
        self._prev = logs[-1]
        self._buf = self._buf[count * self.hop :]

    def finish(self) -> np.ndarray:
        """The envelope, one value per hop from time 0 (silence-padded at the end)."""
        self._buf = np.concatenate((self._buf, np.zeros(self.n_fft // 2, np.float32)))
        self._drain()
        env = np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)
        frames = self.samples // self.hop + 1
        return env[:frames]


def onset_envelope(chunks: Iterable[np.ndarray], rate: int = RATE) -> tuple[np.ndarray, float]:
    """(normalised onset envelope, its frame rate in Hz) of mono chunks at ``rate``."""
    oe = OnsetEnvelope(rate)
    for chunk in chunks:
        oe.feed(chunk)
    env = oe.finish().astype(np.float64)
    fps = rate / oe.hop
    if len(env) == 0:
        return env, fps
    width = max(1, int(round(0.5 * fps)))
    kernel = np.ones(width) / width
    env = np.maximum(env - np.convolve(env, kernel, mode="same"), 0)
    std = env.std()
    return (env / std if std > 0 else env), fps


# --- tempo and beats ----------------------------------------------------------------------------


def _autocorrelation(env: np.ndarray, max_lag: int) -> np.ndarray:
    n = len(env)
    size = 1 << int(np.ceil(np.log2(2 * n + 1)))
    spec = np.fft.rfft(env - env.mean(), size)
    ac = np.fft.irfft(spec * np.conj(spec), size)[: max_lag + 1]
    return ac / np.maximum(n - np.arange(max_lag + 1), 1)  # unbiased


def estimate_period(env: np.ndarray, fps: float) -> float:
    """The beat period in envelope frames (float)."""
    lo = int(np.floor(fps * 60.0 / MAX_BPM))
    hi = int(np.ceil(fps * 60.0 / MIN_BPM))
    if len(env) < 2 * lo + 2:
        raise MoviolaError("the audio is too short to find a beat in")
    hi = min(hi, len(env) // 2)
    ac = _autocorrelation(env, hi + 1)
    lags = np.arange(len(ac), dtype=np.float64)
    bpm = np.where(lags > 0, 60.0 * fps / np.maximum(lags, 1e-9), 0)
    prior = np.exp(-0.5 * (np.log2(np.maximum(bpm, 1e-9) / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.where((lags >= lo) & (lags <= hi), np.maximum(ac, 0) * prior, -np.inf)
    best = int(np.argmax(weighted))
    if not np.isfinite(weighted[best]) or ac[best] <= 0:
        raise MoviolaError("no beat found in the audio")

    def refine(i: int) -> float:
        if 0 < i < len(ac) - 1:
            a, b, c = ac[i - 1], ac[i], ac[i + 1]
            denom = a - 2 * b + c
            if denom < 0:
                return i + 0.5 * (a - c) / denom
        return float(i)

    period = refine(best)
    half = int(round(period / 2))
    if half >= lo:
        # a true peak near half the period (the envelope repeats there as well)
        near = range(max(lo, half - 2), min(hi, half + 2) + 1)
        h = max(near, key=lambda i: ac[i])
        if ac[h] >= HALF_PERIOD_SHARE * ac[best] and ac[h] >= ac[h - 1] and ac[h] >= ac[h + 1]:
            period = refine(h)
    return period


def track_beats(
    env: np.ndarray, fps: float, period: float, tightness: float = TIGHTNESS
) -> np.ndarray:
    """Beat positions (envelope frames, int) by dynamic programming (see the module doc)."""
    n = len(env)
    if n == 0:
        return np.zeros(0, int)
    sigma = period / 32.0
    half = int(np.ceil(4 * sigma))
    x = np.arange(-half, half + 1)
    local = np.convolve(env, np.exp(-0.5 * (x / max(sigma, 1e-6)) ** 2), mode="same")
    lo, hi = max(1, int(round(period / 2))), int(round(2 * period))
    offsets = np.arange(hi, lo - 1, -1)  # distances back to the previous beat
    penalty = -tightness * np.log(offsets / period) ** 2
    score = np.empty(n)
    link = np.full(n, -1, int)
    for i in range(n):
        first = i - hi
        if i - lo < 0:
            score[i] = local[i]
            continue
        if first >= 0:
            cand = score[first : i - lo + 1] + penalty
            start = first
        else:
            cand = score[: i - lo + 1] + penalty[-first:]
            start = 0
        j = int(np.argmax(cand))
        score[i] = local[i] + cand[j]
        link[i] = start + j
    # the last beat: the best-scoring local maximum of the score in the last period
    tail = max(0, n - int(round(period)))
    end = tail + int(np.argmax(score[tail:]))
    beats = [end]
    while link[beats[-1]] >= 0:
        beats.append(link[beats[-1]])
    beats = np.array(beats[::-1])
    # drop beats in leading / trailing silence (weak onsets before the first / after the last
    # strong one)
    strength = local[beats]
    strong = np.flatnonzero(strength > 0.5 * np.sqrt(np.mean(strength**2)))
    if len(strong):
        beats = beats[strong[0] : strong[-1] + 1]
    return beats


def detect_beats(
    path: str | os.PathLike, *, bpm: float | None = None, stream_index: int | None = None
) -> Beats:
    """Beats of a file's (first) audio stream. ``bpm``: the tempo, when known (skips step 2)."""
    from moviola.media.probe import probe

    info = probe(path)
    if not info.audio:
        raise MoviolaError(f"{path} has no audio stream")
    audio = (
        info.audio[0]
        if stream_index is None
        else next((a for a in info.audio if a.index == stream_index), None)
    )
    if audio is None:
        raise MoviolaError(f"{path} has no audio stream #{stream_index}")
    env, fps = onset_envelope(decode_mono(path, RATE, audio.index))
    duration = len(env) / fps
    if len(env) == 0 or not np.any(env > 0):
        raise MoviolaError(f"no onsets in the audio of {path}: nothing to follow")
    if bpm is not None:
        if not MIN_BPM / 2 <= bpm <= MAX_BPM * 2:
            raise MoviolaError(f"bpm must be between {MIN_BPM / 2:g} and {MAX_BPM * 2:g}")
        period = 60.0 * fps / bpm
    else:
        period = estimate_period(env, fps)
    frames = track_beats(env, fps, period)
    times = frames / fps + ONSET_BIAS
    return Beats(times=times, bpm=60.0 * fps / period, duration=duration, start=audio.start_time)
