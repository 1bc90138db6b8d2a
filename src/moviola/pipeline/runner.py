"""Run a chain of effects over one decode and one encode pass.

Decode, compute and encode run in three threads joined by bounded queues, so the three overlap
and memory stays flat however long the video is. Progress is reported as events; a cancel event
(or Ctrl-C) stops the run and removes the partial output.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.media import provenance
from moviola.media.audio import AudioSource
from moviola.media.frame import Frame, StreamInfo, check_size
from moviola.media.reader import VideoReader
from moviola.media.subtitles import subtitle_source
from moviola.media.timeline import Timeline
from moviola.media.writer import VideoWriter, resolve_target, same_file
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import Progress, RunOptions

log = logging.getLogger("moviola")

STOP_WAIT = 5.0  # seconds the stages get to stop after Ctrl-C / SIGTERM before we leave them

_END = object()
# Container tags that describe the old file's encoding, not its content: not carried over.
_CONTAINER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}


@dataclass
class RunResult:
    output: Path
    frames_in: int
    frames_out: int
    skipped: int
    seconds: float
    info: StreamInfo
    timeline: Timeline
    audio: str  # "copied", "re-encoded", "none" or "dropped"
    effects: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        """The result as JSON can hold it (what ``--json`` prints and the studio stores)."""
        rate = Fraction(self.info.rate)
        return {
            "output": str(self.output),
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "audio": self.audio,
            "effects": self.effects,
            "width": self.info.width,
            "height": self.info.height,
            "rate": f"{rate.numerator}/{rate.denominator}",
        }


class Chain:
    """Pushes frames through effects in order, batching where an effect asks for batches."""

    def __init__(self, effects: list[Effect], cancel: threading.Event | None = None) -> None:
        self.effects = effects
        self.cancel = cancel  # set: every effect stops taking frames (checked between frames)
        self._buffers: list[list[Frame]] = [[] for _ in effects]

    def configure(self, info: StreamInfo) -> StreamInfo:
        """Configure each effect in turn; refuses a stage whose frames would be larger than
        moviola handles (``media.frame.MAX_SIDE``) before any frame is made."""
        for effect in self.effects:
            info = effect.configure(info)
            check_size(info.width, info.height, f"{effect.name}: its output")
        return info

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def timeline(self, timeline: Timeline) -> Timeline:
        for effect in self.effects:
            timeline = effect.map_timeline(timeline)
        return timeline

    def push(self, frames: Iterable[Frame], start: int = 0) -> Iterator[Frame]:
        """Frames out of the chain for ``frames`` in, lazily: an effect whose ``process_batch``
        or ``flush`` returns a generator (a still turned into a long clip) streams its frames
        one by one into the next effect and the encoder, so memory stays flat."""
        if start == len(self.effects):
            yield from frames
            return
        effect, buffer = self.effects[start], self._buffers[start]
        size = max(1, effect.batch_size)
        for frame in frames:
            if self._cancelled():  # an effect making many frames (or dropping them) stops here
                return
            buffer.append(frame)
            if len(buffer) >= size:
                batch = buffer[:size]
                del buffer[:size]
                yield from self.push(effect.process_batch(batch), start + 1)

    def finish(self) -> Iterator[Frame]:
        """Flush every effect in order, pushing what each still held through the rest."""
        for i, effect in enumerate(self.effects):
            if self._cancelled():
                return
            held, self._buffers[i] = self._buffers[i], []
            if held:
                yield from self.push(effect.process_batch(held), i + 1)
            yield from self.push(effect.flush(), i + 1)

    def close(self) -> None:
        for effect in self.effects:
            try:
                effect.close()
            except Exception:  # noqa: BLE001 - teardown must not hide the original error
                log.debug("closing %s failed", effect.name, exc_info=True)

    def run(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            yield from self.push([frame])
        yield from self.finish()


def output_tags(source_tags: dict[str, str], effects: list[Effect]) -> dict[str, str]:
    """The container tags an output carries: the source's (less those describing its old
    encoding) and what the effects add."""
    tags = {k: v for k, v in source_tags.items() if k.lower() not in _CONTAINER_TAGS}
    for effect in effects:
        tags.update(effect.tags())
    return tags


def open_reader(source, *, start=None, end=None, strict=False, dtype="uint8") -> VideoReader:
    return VideoReader(source, start=start, end=end, strict=strict, dtype=dtype)


def run(
    source: str | Path,
    output: str | Path,
    effects: list[Effect],
    options: RunOptions | None = None,
    **changes: Any,
) -> RunResult:
    """Decode ``source``, apply ``effects`` in order, encode to ``output``.

    Raises MoviolaError for anything the user can fix; KeyboardInterrupt (or ``cancel``) stops
    the run. In every failure the output is not created and the input is untouched.
    ``options`` (a :class:`RunOptions`) or keyword arguments named like its fields set how.
    """
    opts = RunOptions.of(options, **changes)
    resolve_target(output, opts.codec, crf=opts.crf, preset=opts.preset)  # fail before any work
    if same_file(source, output):
        raise MoviolaError(f"output is the input file: {output} (choose another name)")
    reader = open_reader(
        source, start=opts.start, end=opts.end, strict=opts.strict, dtype=opts.dtype
    )
    opts = RunOptions.of(opts, cancel=opts.cancel or threading.Event())
    chain = Chain(effects, opts.cancel)
    writer = None
    try:
        info = chain.configure(reader.stream_info)
        timeline = chain.timeline(Timeline(start=reader.start, end=reader.end))
        audio_source = None
        audio_state = "none"
        heard = reader.info.audio and timeline.audio == "keep"
        if opts.audio and (heard or timeline.layers):
            index = reader.info.audio[0].index if heard else None  # None: only added sound
            audio_source = AudioSource(
                str(source), index, reader.origin, timeline, strict=opts.strict
            )
        elif reader.info.audio:
            audio_state = "dropped"
        tags = {**output_tags(reader.info.tags, effects), **(opts.metadata or {})}
        provenance.prepare(tags)  # a bad signing certificate fails before any work
        writer = VideoWriter(
            output,
            info,
            codec=opts.codec,
            crf=opts.crf,
            preset=opts.preset,
            audio=audio_source,
            subtitles=subtitle_source(str(source), reader.info, reader.origin, timeline),
            metadata=tags,
        )
        frames_in, frames_out, seconds = _run_threads(reader, chain, writer, info, opts)
        if audio_source is not None:
            audio_state = writer.audio_mode or "dropped"
        path = writer.close()
        writer = None
        provenance.sign_tagged(path, tags, ingredient=source)  # synthetic outputs: C2PA
        return RunResult(
            output=path,
            frames_in=frames_in,
            frames_out=frames_out,
            skipped=reader.skipped,
            seconds=seconds,
            info=info,
            timeline=timeline,
            audio=audio_state,
            effects=[repr(e) for e in effects],
        )
    finally:
        if writer is not None:
            writer.abort()
        chain.close()
        reader.close()


def _run_threads(reader, chain, writer, info, opts: RunOptions):
    """Decode, compute and encode in three threads; returns (frames in, frames out, seconds)."""
    return _Stages(reader, chain, writer, info, opts).run()


class _Stages:
    """The three threads of a run and the bounded queues between them."""

    def __init__(self, reader, chain, writer, info, opts: RunOptions) -> None:
        self.reader, self.chain, self.writer, self.info = reader, chain, writer, info
        self.progress = opts.progress
        self.cancel = opts.cancel or threading.Event()
        self.decoded: queue.Queue = queue.Queue(opts.queue_size)
        self.processed: queue.Queue = queue.Queue(opts.queue_size)
        self.errors: list[BaseException] = []
        self.frames_in = self.frames_out = 0
        self.started = time.monotonic()

    def _put(self, q: queue.Queue, item) -> bool:
        while not self.cancel.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue):
        while not self.cancel.is_set():
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                continue
        return _END

    def _guarded(self, fn: Callable[[], None]) -> Callable[[], None]:
        def body() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.errors.append(exc)
                self.cancel.set()

        return body

    def decode(self) -> None:
        for frame in self.reader:
            self.frames_in += 1
            if not self._put(self.decoded, frame):
                return
        self._put(self.decoded, _END)

    def compute(self) -> None:
        while (item := self._get(self.decoded)) is not _END:
            for frame in self.chain.push([item]):
                if not self._put(self.processed, frame):
                    return
        if self.cancel.is_set():
            return
        for frame in self.chain.finish():
            if not self._put(self.processed, frame):
                return
        self._put(self.processed, _END)

    def encode(self) -> None:
        last = 0.0
        while (item := self._get(self.processed)) is not _END:
            self.writer.write(item)
            self.frames_out += 1
            now = time.monotonic()
            if self.progress is not None and now - last >= 0.25:
                last = now
                self.progress(Progress(self.frames_out, self.info.frames, now - self.started))

    def run(self) -> tuple[int, int, float]:
        threads = [
            threading.Thread(target=self._guarded(fn), name=f"moviola-{fn.__name__}", daemon=True)
            for fn in (self.decode, self.compute, self.encode)
        ]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.1)
        except KeyboardInterrupt:
            self.cancel.set()
            # Stages see the cancel between frames; one stuck inside a long model call is left
            # behind (daemon threads) after a bounded wait, so the output is removed at once.
            deadline = time.monotonic() + STOP_WAIT
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            raise
        if self.errors:
            raise self.errors[0]
        if self.cancel.is_set():
            raise MoviolaError("cancelled: nothing was written")
        if self.frames_out == 0:
            raise MoviolaError("the effects produced no frames: nothing written")
        elapsed = time.monotonic() - self.started
        if self.progress is not None:
            self.progress(Progress(self.frames_out, self.frames_out, elapsed, done=True))
        return self.frames_in, self.frames_out, elapsed
