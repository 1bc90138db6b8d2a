"""Who speaks: speaker embeddings (GE2E, Resemblyzer's encoder in ONNX) and their clustering.

**Embeddings.** The audio (16 kHz mono) is brought up to -30 dBFS when quieter (never down), as
the encoder was trained; it is cut into partial windows of 160 frames (1.6 s) every 77 frames
(1.3 a second; a last window less than 75 % full is dropped unless it is the only one), the
audio zero-padded to the last window's end; its mel power spectrogram (25 ms Hann windows every
10 ms, zero-padded at the ends, 40 mel bands on the Slaney scale with Slaney area normalisation,
as librosa makes them by default) is read by the encoder window by window, and the mean of the
windows' embeddings, scaled to unit length, is the clip's embedding. This is Resemblyzer's
``embed_utterance`` (it agrees with Resemblyzer 0.1.4 and librosa 0.11 to a cosine of 0.999999
on the samples/speech clips) without Resemblyzer's own webrtcvad trimming of pauses: the clips
given here come from our VAD already. Written with numpy rather than librosa, which would pull
numba and a dozen other packages into the run time for one filterbank.

**Diarization.** :func:`assign_speakers` clusters embeddings agglomeratively (scipy, average
linkage on cosine distance) and cuts the tree at a distance (``threshold``) or into ``count``
clusters. Embeddings of less than a second of speech (``weights``: seconds per embedding) are
left out of the tree and join the nearest cluster afterwards: a short backchannel ("yeah",
"mm") embeds poorly, and on the two-person call of samples/speech two such lines formed a
"speaker" of their own that pushed the two real speakers together.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from moviola.errors import MoviolaError

MODEL_ID = "ge2e-speaker-encoder"
RATE = 16000
N_FFT, HOP, MELS, EMBEDDING = 400, 160, 40, 256
PARTIAL, STEP, MIN_COVERAGE = 160, 77, 0.75
TARGET_DBFS = -30.0
MIN_CLIP = RATE // 2  # the shortest clip embedded (samples)
BATCH = 64  # partial windows per ONNX Runtime call
#: The cosine distance (average linkage) beyond which two groups of clips are different speakers,
#: tuned on samples/speech with one embedding per Whisper segment (what transcribe clusters) and
#: segments under a second left out by their weights: the phone call's two people split at 0.309,
#: one person's segments join by 0.26, the LibriVox reader's by 0.243. Longer clips embed more
#: steadily and would take a lower threshold (the call by whole turns: 0.261 apart, one person's
#: turns within 0.21); 1.5 s windows of one speaker join by 0.288.
THRESHOLD = 0.29
#: Embeddings of less speech than this (seconds, by ``weights``) do not shape the clusters.
MIN_SPEECH = 1.0


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    lin = m * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, lin)


@functools.cache
def mel_filters() -> np.ndarray:
    """MELS x (N_FFT // 2 + 1) triangular filters from 0 Hz to 8 kHz, area-normalised (Slaney)."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    edges = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(np.array(RATE / 2))), MELS + 2))
    weights = np.zeros((MELS, len(freqs)))
    for i in range(MELS):
        lo, mid, hi = edges[i : i + 3]
        weights[i] = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
        weights[i] *= 2.0 / (hi - lo)
    return weights.astype(np.float32)


def mel_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(1 + len // HOP) x MELS mel power spectrogram of 16 kHz mono audio (frames centred on
    every HOP-th sample, the signal zero-padded at both ends)."""
    pad = N_FFT // 2
    x = np.pad(np.asarray(samples, np.float32), pad)
    n = 1 + (len(x) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ mel_filters().T).astype(np.float32)


def normalize_volume(samples: np.ndarray) -> np.ndarray:
    """Raise quiet audio to TARGET_DBFS (RMS); louder audio is returned as it is."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 0:
        return samples
    change = TARGET_DBFS - 20 * np.log10(rms)
    return samples * np.float32(10 ** (change / 20)) if change > 0 else samples


def partial_starts(n_samples: int) -> list[int]:
    """First mel frame of each partial window of a clip of ``n_samples``."""
    frames = 1 + n_samples // HOP
    starts = list(range(0, max(1, frames - PARTIAL + STEP + 1), STEP))
    if len(starts) > 1 and (n_samples - starts[-1] * HOP) / (PARTIAL * HOP) < MIN_COVERAGE:
        starts.pop()
    return starts


def partial_windows(samples: np.ndarray) -> np.ndarray:
    """K x PARTIAL x MELS: the encoder's input for one clip (volume normalised, windowed)."""
    x = normalize_volume(np.asarray(samples, np.float32))
    starts = partial_starts(len(x))
    need = (starts[-1] + PARTIAL) * HOP
    if need > len(x):
        x = np.pad(x, (0, need - len(x)))
    mels = mel_spectrogram(x)
    return np.stack([mels[s : s + PARTIAL] for s in starts])


class SpeakerEncoder:
    """One 256-d unit vector per clip of speech: the closer two voices, the higher the dot
    product of their vectors."""

    def __init__(self, model_path: str | None = None) -> None:
        from moviola import models

        self._sess = models.open_session(models.ensure(MODEL_ID, model_path))

    def embed(self, samples: np.ndarray) -> np.ndarray:
        """The embedding (256) of 16 kHz mono float32 audio of at least 0.5 s."""
        return self.embed_many([samples])[0]

    def embed_many(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """N x 256: each clip's partial windows embedded (in batches of up to BATCH windows),
        averaged, and scaled to unit length."""
        if not clips:
            return np.zeros((0, EMBEDDING), np.float32)
        for c in clips:
            if len(c) < MIN_CLIP:
                raise MoviolaError(
                    f"a speaker embedding needs at least 0.5 s of speech, not {len(c) / RATE:.2f} s"
                )
        windows = [partial_windows(c) for c in clips]
        batch = np.concatenate(windows)
        out = np.concatenate(
            [
                np.asarray(self._sess.run({"mels": batch[i : i + BATCH]})["embedding"], np.float32)
                for i in range(0, len(batch), BATCH)
            ]
        )
        ends = np.cumsum([len(w) for w in windows])
        means = np.stack([out[e - len(w) : e].mean(0) for e, w in zip(ends, windows, strict=True)])
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


def _first_appearance(labels: Sequence[int]) -> list[int]:
    order: dict[int, int] = {}
    return [order.setdefault(int(k), len(order)) for k in labels]


def assign_speakers(
    embeddings: np.ndarray,
    count: int | None = None,
    threshold: float = THRESHOLD,
    weights: np.ndarray | None = None,
) -> list[int]:
    """Speaker labels 0, 1, 2... (in order of first appearance) for N speaker embeddings.

    Agglomerative clustering, average linkage on cosine distance, cut where groups lie more than
    ``threshold`` apart, or into exactly ``count`` clusters (fewer only when there are fewer
    embeddings). ``weights`` gives the seconds of speech behind each embedding: those of less
    than MIN_SPEECH are left out of the tree (while at least two, and ``count``, others remain)
    and then join the cluster whose duration-weighted mean is nearest. Without ``weights`` every
    embedding shapes the clusters alike.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or (len(x) and x.shape[1] != EMBEDDING):
        raise MoviolaError(f"speaker embeddings must be N x {EMBEDDING}, not {x.shape}")
    if count is not None and count < 1:
        raise MoviolaError(f"the number of speakers must be at least 1, not {count}")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (len(x),):
        raise MoviolaError(f"{len(w)} weights for {len(x)} speaker embeddings")
    if len(x) < 2:
        return [0] * len(x)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    core = w >= MIN_SPEECH if weights is not None else np.ones(len(x), bool)
    if core.sum() < max(2, count or 2):
        core = np.ones(len(x), bool)
    labels = np.zeros(len(x), int)
    tree = linkage(x[core], method="average", metric="cosine")
    if count is None:
        labels[core] = fcluster(tree, t=threshold, criterion="distance")
    else:
        labels[core] = fcluster(tree, t=count, criterion="maxclust")
    if not core.all():
        ids = np.unique(labels[core])
        means = np.stack(
            [(x[core & (labels == k)] * w[core & (labels == k), None]).sum(0) for k in ids]
        )
        means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        labels[~core] = ids[np.argmax(x[~core] @ means.T, axis=1)]
    return _first_appearance(labels.tolist())


def speaker_name(label: int) -> str:
    """The name shown for cluster ``label``: S1, S2, ..."""
    return f"S{label + 1}"
