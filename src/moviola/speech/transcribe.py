"""Speech to text with Whisper (faster-whisper, CTranslate2, int8 on the CPU), streamed.

faster-whisper can take a whole file, but then it decodes the whole file into one array first
(230 MB for an hour, 460 MB for two). Here the audio is decoded in chunks, Silero VAD
(:mod:`moviola.speech.vad`) finds the speech, and only speech reaches Whisper: the regions are
packed, with a short pause between them, into windows of at most 28 s (Whisper hears 30 s at a
time), and the times of its words are mapped back to the source. Memory holds one window and the
stretch the VAD has not closed yet, however long the file; silence and music that the VAD does not
take for speech are never transcribed, so they cannot be turned into invented words. A segment
Whisper itself marks as probably not speech (no-speech probability above 0.6 with a mean log
probability below -1, Whisper's own rule) is dropped as well.

A window's text is not given to the next as its prompt (Whisper does that between its own 30 s
windows): with it, a sentence that repeats something said a window earlier was skipped
(tests/test_speech.py, the long-audio test), and WER on the benchmark was the same without. With ``speakers``, every segment Whisper writes (a sentence or so) gets a GE2E speaker embedding
of its audio (at least 1 s around its middle; :mod:`moviola.speech.speakers`); these are
clustered at the end and each segment and its words take their cluster's speaker. Sliding 1.5 s
windows labelled word by word were tried first and split one person's sentence among several
speakers (bench/speech.py: 41 % of words right on the two-person call).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.pcm import decode_mono
from moviola.models.runtime.device import whisper_device
from moviola.speech.transcript import Segment, Transcript, Word
from moviola.speech.vad import RATE, Region, SpeechDetector

log = logging.getLogger(__name__)

DEFAULT_MODEL = "whisper-tiny-en"
ENGLISH_ONLY = {"whisper-tiny-en"}
WINDOW = 28 * RATE  # samples of speech per Whisper call
GAP = int(1.0 * RATE)  # silence put between packed regions (Whisper ends a segment there)
EMBED_MIN = RATE  # the shortest clip a segment's speaker embedding is taken from (samples)
#: Seconds of audio kept around each speech region: soft first words ("and") were lost at 0.1
#: (bench/speech.py, LibriVox 0870), 0.2 keeps them; faster-whisper's own VAD pads by 0.4.
SPEECH_PAD = 0.3
MAX_CLUSTERED = 2000  # embeddings clustered directly; the rest join the nearest cluster
Progress = Callable[[float, float | None], None]


@dataclass
class _Window:
    audio: list[np.ndarray] = field(default_factory=list)
    # (offset in the packed audio, source sample, length) per region
    pieces: list[tuple[int, int, int]] = field(default_factory=list)
    size: int = 0

    def add(self, region: Region, samples: np.ndarray) -> None:
        if self.audio:
            self.audio.append(np.zeros(GAP, np.float32))
            self.size += GAP
        self.pieces.append((self.size, region.start, len(samples)))
        self.audio.append(samples)
        self.size += len(samples)

    def piece(self, t: float) -> int:
        """The region a time of the packed audio (s) belongs to (a gap is split in the middle)."""
        x = t * RATE
        k = 0
        for i, (offset, _, _) in enumerate(self.pieces):
            if offset - GAP / 2 <= x:
                k = i
        return k

    def to_source(self, t: float, k: int | None = None) -> float:
        """A time in the packed audio (s) -> seconds in the source (inside region ``k``)."""
        offset, src, length = self.pieces[self.piece(t) if k is None else k]
        return (src + min(max(t * RATE - offset, 0.0), length)) / RATE


class Transcriber:
    """Whisper + Silero VAD (+ a speaker encoder) over one file at a time."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        language: str | None = None,
        model_path: str | None = None,
        beam_size: int = 5,
        threads: int = 0,
        prompt: str | None = None,
    ) -> None:
        from moviola import models

        if language and model in ENGLISH_ONLY and language != "en":
            raise MoviolaError(
                f"{model} knows English only; for --language {language} use --model whisper-base"
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise MoviolaError(
                "transcription needs faster-whisper: pip install 'moviola[speech]'"
            ) from None
        self.model_id = model
        self.language = "en" if model in ENGLISH_ONLY else language
        folder = models.ensure(model, model_path).parent
        device, compute_type = whisper_device()
        self.whisper = WhisperModel(
            str(folder),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads or os.cpu_count() or 1,
        )
        self.beam_size = beam_size
        self.prompt = prompt  # given to every window (e.g. one that shows hesitations written)

    def transcribe(
        self,
        path: str | os.PathLike,
        *,
        speakers: int | str | None = None,
        progress: Progress | None = None,
        vad: SpeechDetector | None = None,
    ) -> Transcript:
        """The transcript of the first audio stream of ``path`` (video or audio)."""
        from moviola.media.probe import probe

        info = probe(path)
        if not info.audio:
            raise MoviolaError(f"no audio to transcribe in {path}")
        audio = info.audio[0]
        duration = float(info.duration) if info.duration else None
        offset = float(audio.start_time - info.start_time)
        run = _Run(self, vad or SpeechDetector(pad=SPEECH_PAD), speakers is not None)
        for chunk in decode_mono(path, RATE, audio.index):
            run.feed(chunk)
            if progress:
                progress(run.pos / RATE, duration)
        run.finish()
        segments = run.segments
        names: list[str] = []
        if speakers is not None:
            names = _label_speakers(segments, run.embeddings, speakers)
        for s in segments:
            s.start, s.end = s.start + offset, s.end + offset
            for w in s.words:
                w.start, w.end = w.start + offset, w.end + offset
        if progress:
            progress(run.pos / RATE, run.pos / RATE)
        return Transcript(
            segments=segments,
            language=run.language or self.language or "",
            model=self.model_id,
            duration=run.pos / RATE,
            speakers=names,
            language_probability=run.language_probability,
        )


class _Run:
    """The state of one transcription: audio buffer, VAD, the window being packed, results."""

    def __init__(self, owner: Transcriber, vad: SpeechDetector, embed: bool) -> None:
        self.owner = owner
        self.vad = vad
        self.buf = np.zeros(0, np.float32)
        self.buf_start = 0  # source sample of buf[0]
        self.pos = 0
        self.window = _Window()
        self.segments: list[Segment] = []
        self.language: str | None = owner.language
        self.language_probability: float | None = None
        self.encoder: Any = None
        self.embeddings: list[np.ndarray] = []  # one per segment, when telling speakers apart
        if embed:
            from moviola.speech.speakers import SpeakerEncoder

            self.encoder = SpeakerEncoder()

    def feed(self, chunk: np.ndarray) -> None:
        self.buf = np.concatenate([self.buf, chunk]) if len(self.buf) else chunk
        self.pos += len(chunk)
        for region in self.vad.feed(chunk):
            self._region(region)
        keep = min(self.vad.keep_from(), self.pos)
        if keep > self.buf_start:
            self.buf = self.buf[keep - self.buf_start :]
            self.buf_start = keep

    def finish(self) -> None:
        for region in self.vad.finish():
            self._region(region)
        self._flush()

    def _region(self, region: Region) -> None:
        a, b = region.start - self.buf_start, region.end - self.buf_start
        samples = self.buf[max(a, 0) : max(b, 0)].copy()
        if not len(samples):
            return
        start = region.start
        while len(samples):  # a region longer than a window (the VAD caps them; be safe)
            if self.window.size + GAP + min(len(samples), WINDOW) > WINDOW and self.window.pieces:
                self._flush()
            take = samples[:WINDOW]
            self.window.add(Region(start, start + len(take)), take)
            samples, start = samples[WINDOW:], start + len(take)

    def _embed(self, audio: np.ndarray, spans: list[tuple[float, float]]) -> list[np.ndarray]:
        """A speaker embedding per Whisper segment (packed-audio seconds), each clip widened
        to at least EMBED_MIN around its middle."""
        clips = []
        for a, b in spans:
            mid, half = (a + b) / 2 * RATE, max((b - a) * RATE, EMBED_MIN) / 2
            lo = int(max(0, min(mid - half, len(audio) - EMBED_MIN)))
            clips.append(audio[lo : max(lo + RATE // 2, int(mid + half))])
        return list(self.encoder.embed_many(clips)) if clips else []

    def _flush(self) -> None:
        window, self.window = self.window, _Window()
        if not window.pieces:
            return
        audio = np.concatenate(window.audio)
        segs, info = self.owner.whisper.transcribe(
            audio,
            language=self.language,
            beam_size=self.owner.beam_size,
            word_timestamps=True,
            vad_filter=False,
            initial_prompt=self.owner.prompt,
            condition_on_previous_text=True,
        )
        if self.language is None:
            self.language = info.language
            self.language_probability = float(info.language_probability)
            if self.language_probability < 0.5:
                log.warning(
                    "the language spoken is unclear to %s (%s at %.0f%%): the transcript may be "
                    "wrong; give --language",
                    self.owner.model_id,
                    info.language,
                    100 * self.language_probability,
                )
        kept = []
        for s in segs:
            log.debug(
                "window segment %.2f-%.2f nsp %.2f lp %.2f %r",
                s.start,
                s.end,
                s.no_speech_prob,
                s.avg_logprob,
                s.text,
            )
            if (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0) or not s.text.strip():
                continue
            kept.append(s)
        vectors = self._embed(audio, [(s.start, s.end) for s in kept]) if self.encoder else []
        for i, s in enumerate(kept):
            pieces = _mapped(s, window)
            self.segments += pieces
            if vectors:
                self.embeddings += [vectors[i]] * len(pieces)


def _mapped(seg: Any, window: _Window) -> list[Segment]:
    """One Whisper segment in source time: split where its words fall in different regions
    (packed regions can be far apart in the source)."""
    runs: list[tuple[int, list[Word]]] = []
    for w in seg.words or []:
        k = window.piece((w.start + w.end) / 2)
        start, end = window.to_source(w.start, k), window.to_source(w.end, k)
        word = Word(
            start=round(start, 3),
            end=round(max(end, start), 3),
            text=w.word,
            probability=round(float(w.probability), 3),
        )
        if runs and runs[-1][0] == k:
            runs[-1][1].append(word)
        else:
            runs.append((k, [word]))
    if not runs:
        a, b = window.to_source(seg.start), window.to_source(seg.end)
        return [Segment(start=round(a, 3), end=round(b, 3), text=seg.text.strip())]
    return [
        Segment(
            start=words[0].start,
            end=words[-1].end,
            text="".join(w.text for w in words).strip(),
            words=words,
        )
        for _, words in runs
        if "".join(w.text for w in words).strip()
    ]


def _label_speakers(
    segments: list[Segment], embeddings: list[np.ndarray], speakers: int | str
) -> list[str]:
    """Cluster the segments' embeddings; every segment and its words take their cluster's
    speaker. Returns the speaker names in order of first appearance."""
    from moviola.speech.speakers import assign_speakers, speaker_name

    if not embeddings:
        return []
    count = None if speakers == "auto" else int(speakers)
    vectors = np.stack(embeddings)
    # seconds of speech behind each embedding: short lines do not shape the clusters
    weights = np.array([s.end - s.start for s in segments], np.float64)
    if len(vectors) > MAX_CLUSTERED:
        pick = np.linspace(0, len(vectors) - 1, MAX_CLUSTERED).round().astype(int)
        some = np.array(assign_speakers(vectors[pick], count, weights=weights[pick]))
        centroids = np.stack([vectors[pick][some == k].mean(0) for k in range(some.max() + 1)])
        labels = [int(k) for k in np.argmax(vectors @ centroids.T, axis=1)]
    else:
        labels = assign_speakers(vectors, count, weights=weights)
    names: list[str] = []
    for segment, label in zip(segments, labels, strict=True):
        segment.speaker = speaker_name(label)
        for w in segment.words:
            w.speaker = segment.speaker
        if segment.speaker not in names:
            names.append(segment.speaker)
    return names


def transcribe(
    path: str | os.PathLike,
    *,
    model: str = DEFAULT_MODEL,
    language: str | None = None,
    speakers: int | str | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe the speech in a video or audio file (see :class:`Transcriber`)."""
    return Transcriber(model, language=language).transcribe(
        path, speakers=speakers, progress=progress
    )
