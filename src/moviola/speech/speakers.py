"""Who speaks: speaker embeddings (GE2E, Resemblyzer's encoder in ONNX) and their clustering.

**Embeddings.** The audio (16 kHz mono) is brought up to -30 dBFS when quieter (never down), as
the encoder was trained; its mel power spectrogram (25 ms Hann windows every 10 ms, reflect-padded
at the ends, 40 mel bands on the Slaney scale with Slaney area normalisation, as librosa makes
them by default) is cut into partial windows of 160 frames (1.6 s) every 77 frames (1.3 a
second; a last window less than 75 % full is dropped unless it is the only one); the encoder
embeds each window and the mean of the windows, scaled to unit length, is the clip's
embedding. This follows Resemblyzer's ``embed_utterance`` (without its own VAD trimming: the
clips given here are already speech). Written with numpy rather than librosa, which would pull
numba and a dozen other packages into the run time for one filterbank.

**Diarization.** :func:`assign_speakers` clusters embeddings agglomeratively (average linkage on
cosine distance, scipy) into exactly ``count`` clusters, or, when the number of speakers is
unknown, into the number (2 to 10) with the best mean silhouette, or one cluster when no
number reaches a silhouette of 0.2.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from moviola.errors import MoviolaError

MODEL_ID = "ge2e-speaker-encoder"
RATE = 16000
N_FFT, HOP, MELS = 400, 160, 40
PARTIAL, STEP, MIN_COVERAGE = 160, 77, 0.75
TARGET_DBFS = -30.0
#: --speakers auto: the number of clusters (2 to MAX_AUTO) whose mean silhouette is highest,
#: when it reaches MIN_SILHOUETTE; else one speaker. A fixed distance threshold could not serve
#: both real recordings at hand: Megamind.avi's lines by one character lie 0.37 apart while
#: two different readers (LibriVox / pocketsphinx) lie 0.35 apart on average.
MIN_SILHOUETTE, MAX_AUTO = 0.2, 10


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
    """MELS x (N_FFT // 2 + 1) triangular filters, area-normalised (Slaney)."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(RATE / 2)), MELS + 2)
    )
    weights = np.zeros((MELS, len(freqs)))
    for i in range(MELS):
        lo, mid, hi = edges[i : i + 3]
        weights[i] = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
        weights[i] *= 2.0 / (hi - lo)
    return weights.astype(np.float32)


def mel_spectrogram(samples: np.ndarray) -> np.ndarray:
    """Frames x MELS mel power spectrogram of 16 kHz mono audio."""
    x = np.asarray(samples, np.float32)
    pad = N_FFT // 2
    x = np.pad(x, pad, mode="reflect" if len(x) > pad else "constant")
    n = 1 + (len(x) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n, N_FFT), strides=(x.strides[0] * HOP, x.strides[0])
    )
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ mel_filters().T).astype(np.float32)


def normalize_volume(samples: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 0:
        return samples
    change = TARGET_DBFS - 20 * np.log10(rms)
    return samples * np.float32(10 ** (change / 20)) if change > 0 else samples


def partials(mels: np.ndarray) -> np.ndarray:
    """The partial windows (K x PARTIAL x MELS) of a clip's mel spectrogram, zero-padded."""
    n = len(mels)
    starts = list(range(0, max(1, n - PARTIAL + STEP + 1), STEP))
    if len(starts) > 1 and (n - starts[-1]) / PARTIAL < MIN_COVERAGE:
        starts.pop()
    need = starts[-1] + PARTIAL
    if need > n:
        mels = np.concatenate([mels, np.zeros((need - n, MELS), np.float32)])
    return np.stack([mels[s : s + PARTIAL] for s in starts])


class SpeakerEncoder:
    """One 256-d unit vector per clip of speech: the closer two voices, the higher the dot
    product of their vectors."""

    def __init__(self, model_path: str | None = None) -> None:
        from moviola import models

        self._sess = models.open_session(models.ensure(MODEL_ID, model_path))

    def _windows(self, samples: np.ndarray) -> np.ndarray:
        if len(samples) < RATE // 2:
            raise MoviolaError("a speaker embedding needs at least 0.5 s of speech")
        return partials(mel_spectrogram(normalize_volume(np.asarray(samples, np.float32))))

    def embed(self, samples: np.ndarray) -> np.ndarray:
        return self.embed_many([samples])[0]

    def embed_many(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """N x 256: each clip's partial windows embedded together, averaged, renormalised."""
        if not clips:
            return np.zeros((0, 256), np.float32)
        windows = [self._windows(c) for c in clips]
        batch = np.concatenate(windows)
        out = np.asarray(self._sess.run({"mels": batch})["embedding"], np.float32)
        result, at = [], 0
        for w in windows:
            mean = out[at : at + len(w)].mean(0)
            result.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            at += len(w)
        return np.stack(result)


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of a clustering (0 for points alone in their cluster)."""
    scores = np.zeros(len(labels))
    for i, k in enumerate(labels):
        mine = labels == k
        if mine.sum() < 2:
            continue
        a = distances[i, mine].sum() / (mine.sum() - 1)
        b = min(distances[i, labels == j].mean() for j in set(labels.tolist()) - {k})
        scores[i] = (b - a) / max(a, b, 1e-12)
    return float(scores.mean())


def assign_speakers(embeddings: np.ndarray, count: int | None = None) -> list[int]:
    """Cluster labels 0, 1, 2... (in order of first appearance) for speaker embeddings:
    agglomerative clustering, average linkage on cosine distance, into ``count`` clusters, or
    (``count`` None) into the number with the best silhouette (one when none is good)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist, squareform

    x = np.asarray(embeddings, np.float64)
    if len(x) == 0:
        return []
    if len(x) == 1:
        return [0]
    condensed = pdist(x, metric="cosine")
    tree = linkage(condensed, method="average")
    if count is not None:
        raw = fcluster(tree, t=min(count, len(x)), criterion="maxclust")
    else:
        distances = squareform(condensed)
        raw, best = np.ones(len(x), int), MIN_SILHOUETTE
        for k in range(2, min(MAX_AUTO, len(x) - 1) + 1):
            labels = fcluster(tree, t=k, criterion="maxclust")
            score = silhouette(distances, labels)
            if score > best:
                raw, best = labels, score
    order: dict[int, int] = {}
    return [order.setdefault(int(k), len(order)) for k in raw]


def speaker_name(label: int) -> str:
    return f"S{label + 1}"
