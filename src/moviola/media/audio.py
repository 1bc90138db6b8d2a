"""The input's audio carried to the output: stream copy where possible, else re-encoded.

The audio follows the video's Timeline (trims and speed changes), so that it stays in sync.
Packets are produced lazily and muxed interleaved with the video, so memory stays flat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.filter import Graph

from moviola.errors import MoviolaError
from moviola.media.timeline import Timeline

log = logging.getLogger("moviola")

# Audio codecs each container takes as they are (stream copy).
COPYABLE = {
    "mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
    "mov": {"aac", "alac", "mp3", "ac3", "pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_s24be"},
    "matroska": None,  # anything
    "webm": {"opus", "vorbis"},
    "avi": {"mp3", "ac3", "pcm_s16le"},
    "wav": {"pcm_s16le", "pcm_s24le", "pcm_f32le"},
}
# What each container gets when the audio must be re-encoded.
ENCODE = {
    "mp4": ("aac", 192_000),
    "mov": ("aac", 192_000),
    "matroska": ("flac", None),
    "webm": ("libopus", 160_000),
    "avi": ("pcm_s16le", None),
    "wav": ("pcm_s16le", None),
}


@dataclass(frozen=True)
class AudioSource:
    """Where the audio comes from: a file's audio stream and the clip's time origin in it."""

    path: str
    stream_index: int
    origin: Fraction  # source time (seconds) of the clip's time 0
    timeline: Timeline = Timeline()


class AudioTrack:
    """Produces the output's audio packets in time order for one output container."""

    def __init__(self, source: AudioSource, output: OutputContainer) -> None:
        self.source = source
        self.timeline = source.timeline
        self._input: InputContainer = av.open(source.path)
        in_stream = self._input.streams[source.stream_index]
        if not isinstance(in_stream, AudioStream):
            self._input.close()
            raise ValueError(f"stream {source.stream_index} of {source.path} is not audio")
        self._in_stream = in_stream
        fmt = output.format.name.split(",")[0]
        codec = self._in_stream.codec_context.name
        allowed = COPYABLE.get(fmt, set())
        self.copy = self.timeline.is_identity and (allowed is None or codec in allowed)
        self.stream: AudioStream
        if self.copy:
            self.stream = output.add_stream_from_template(self._in_stream)
            self._packets = self._copied()
        else:
            name, bit_rate = ENCODE.get(fmt, ("aac", 192_000))
            self.stream = self._encoder_stream(output, name, bit_rate)
            self._packets = self._encoded()
        self._next: av.Packet | None = None
        self._done = False

    def _encoder_stream(
        self, output: OutputContainer, name: str, bit_rate: int | None
    ) -> AudioStream:
        icc = self._in_stream.codec_context
        rate = icc.sample_rate
        codec = av.Codec(name, "w")
        rates = codec.audio_rates
        if rates and rate not in rates:
            rate = min(rates, key=lambda r: abs(r - rate))
        stream = output.add_stream(name, rate=rate)
        if not isinstance(stream, AudioStream):
            raise ValueError(f"{name} is not an audio encoder")
        # WAV and raw PCM often carry unnamed layouts ("2 channels") that encoders refuse.
        layout = icc.layout.name if icc.layout and icc.layout.name else ""
        if not layout or layout.endswith("channels"):
            layout = "mono" if icc.channels == 1 else "stereo"
        if name == "libopus" and icc.channels > 2:
            layout = "stereo"
        stream.codec_context.layout = layout
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate * max(1, min(icc.channels, 2)) // 2
        stream.codec_context.time_base = Fraction(1, rate)
        return stream

    # -- stream copy ----------------------------------------------------------------------------
    def _copied(self) -> Iterator[av.Packet]:
        tb = _time_base(self._in_stream)
        shift = round(self.source.origin / tb)
        for packet in self._input.demux(self._in_stream):
            if packet.size == 0 or packet.pts is None:
                continue
            if (packet.pts - shift + (packet.duration or 0)) * tb <= 0:
                continue  # entirely before the clip starts
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.stream
            yield packet

    # -- re-encode through a filter graph -------------------------------------------------------
    def _encoded(self) -> Iterator[av.Packet]:
        tl = self.timeline
        enc = self.stream.codec_context
        src_start = self.source.origin + tl.start
        graph = Graph()
        chain = [graph.add_abuffer(template=self._in_stream)]
        trim = f"start={float(src_start):.9f}"
        if tl.end is not None:
            trim += f":end={float(self.source.origin + tl.end):.9f}"
        chain.append(graph.add("atrim", trim))
        for factor in _tempo_steps(tl.speed):
            chain.append(graph.add("atempo", f"{factor:.9f}"))
        chain.append(
            graph.add(
                "aformat",
                f"sample_fmts={enc.format.name}:sample_rates={enc.sample_rate}"
                f":channel_layouts={enc.layout.name}",
            )
        )
        chain.append(graph.add("abuffersink"))
        graph.link_nodes(*chain).configure()
        if enc.frame_size:
            graph.set_audio_frame_size(enc.frame_size)
        elif enc.codec.name.startswith("pcm"):
            graph.set_audio_frame_size(1024)

        rate = enc.sample_rate
        samples_out = None  # running output position, in samples
        self._first_in: Fraction | None = None
        for frame in self._filtered(graph, src_start):
            if samples_out is None:
                # The first sample kept may come after the trim point (audio starting late).
                first = self._first_in if self._first_in is not None else src_start
                samples_out = round(max(Fraction(0), first - src_start) / tl.speed * rate)
            frame.pts = samples_out
            frame.time_base = Fraction(1, rate)
            samples_out += frame.samples
            yield from self.stream.encode(frame)
        yield from self.stream.encode(None)

    def _filtered(self, graph: Graph, src_start: Fraction) -> Iterator[av.AudioFrame]:
        def drain():
            while True:
                try:
                    frame = graph.pull()
                    assert isinstance(frame, av.AudioFrame)  # an abuffersink gives audio
                    yield frame
                except (av.error.BlockingIOError, av.error.EOFError):
                    return

        for frame in self._decoded():
            if self._first_in is None and frame.pts is not None and frame.time_base is not None:
                t = frame.pts * Fraction(frame.time_base)
                if t + Fraction(frame.samples, frame.sample_rate) > src_start:
                    self._first_in = t
            try:
                graph.push(frame)
            except av.error.EOFError:
                break  # the trim's end is reached: no more input needed
            yield from drain()
        with contextlib.suppress(av.error.EOFError):
            graph.push(None)
        yield from drain()

    def _decoded(self) -> Iterator[av.AudioFrame]:
        demux = self._input.demux(self._in_stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError:
                log.warning("audio ended early: the input is damaged")
                return
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                log.warning("skipped an undecodable audio packet")

    # -- muxing ---------------------------------------------------------------------------------
    def mux_until(self, output: OutputContainer, until: Fraction | None) -> None:
        """Mux packets whose time is before ``until`` seconds of output time (None: all)."""
        tb = None
        while not self._done:
            if self._next is None:
                try:
                    self._next = next(self._packets)
                except StopIteration:
                    self._done = True
                    break
            packet = self._next
            if until is not None and packet.pts is not None:
                tb = tb or Fraction(packet.time_base or _time_base(self.stream))
                if packet.pts * tb > until:
                    break
            output.mux(packet)
            self._next = None

    def close(self) -> None:
        self._input.close()


def _tempo_steps(speed: Fraction) -> list[float]:
    """Split a speed factor into atempo steps within its range (0.5 to 100)."""
    value = float(speed)
    if value <= 0:
        raise MoviolaError("speed must be positive")
    steps = []
    while value < 0.5:
        steps.append(0.5)
        value /= 0.5
    while value > 100:
        steps.append(100.0)
        value /= 100
    if abs(value - 1) > 1e-9 or not steps:
        steps.append(value)
    return [s for s in steps if abs(s - 1) > 1e-9]


def _time_base(stream: AudioStream) -> Fraction:
    """An opened stream's time base (FFmpeg always sets one)."""
    if stream.time_base is None:
        raise ValueError(f"audio stream {stream.index} has no time base")
    return Fraction(stream.time_base)
