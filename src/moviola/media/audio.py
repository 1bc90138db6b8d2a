"""The input's audio carried to the output: stream copy where possible, else re-encoded.

The audio follows the video's Timeline (trims and speed changes), so that it stays in sync, with
what effects declared on it (``media/timeline.py``): gains over ranges of the source audio, and
added sound (layers) mixed in at unit gain, all rendered in one FFmpeg filter graph.
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
from av.filter.context import FilterContext

from moviola.errors import MoviolaError
from moviola.media.probe import announced_end
from moviola.media.timeline import AudioLayer, Timeline

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
    """Where the audio comes from: a file's audio stream and the clip's time origin in it.

    ``stream_index`` None: the source's own audio is not used (the timeline's layers make the
    sound, e.g. a score over a silent clip)."""

    path: str
    stream_index: int | None
    origin: Fraction  # source time (seconds) of the clip's time 0
    timeline: Timeline = Timeline()
    strict: bool = False  # audio that ends before the container says (truncated) is an error


class AudioTrack:
    """Produces the output's audio packets in time order for one output container."""

    def __init__(self, source: AudioSource, output: OutputContainer) -> None:
        self.source = source
        self.timeline = tl = source.timeline
        self._input: InputContainer | None = None
        self._in_stream: AudioStream | None = None
        if source.stream_index is not None and tl.audio == "keep":
            self._input = av.open(source.path)
            self._in_stream = _audio_stream(self._input, source.stream_index, source.path)
        if self._in_stream is None and not tl.layers:
            raise ValueError("no audio to write: the source's is dropped and nothing was added")
        # The encoder takes its rate and channels from the source audio, else the first layer.
        self._template_input: InputContainer | None = None
        if self._in_stream is None:
            self._template_input, template = _layer_template(tl.layers[0])
        else:
            template = self._in_stream
        fmt = output.format.name.split(",")[0]
        allowed = COPYABLE.get(fmt, set())
        self.copy = (
            self._in_stream is not None
            and tl.is_identity
            and not tl.changes_sound
            and (allowed is None or self._in_stream.codec_context.name in allowed)
        )
        # Only added sound: it ends with the picture (see mux_until).
        self.follows_picture = self._in_stream is None
        self.stream: AudioStream
        if self.copy:
            self.stream = output.add_stream_from_template(template)
            self._packets = self._copied()
        else:
            name, bit_rate = ENCODE.get(fmt, ("aac", 192_000))
            self.stream = _encoder_stream(output, template, name, bit_rate)
            self._packets = self._encoded()
        self._next: av.Packet | None = None
        self._done = False
        self._read_end = Fraction(0)  # source time where the packets read so far end

    # -- stream copy ----------------------------------------------------------------------------
    def _copied(self) -> Iterator[av.Packet]:
        assert self._input is not None and self._in_stream is not None  # copy needs the source
        tb = _time_base(self._in_stream)
        shift = round(self.source.origin / tb)
        for packet in self._source_packets():
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
        aformat = (
            f"sample_fmts={enc.format.name}:sample_rates={enc.sample_rate}"
            f":channel_layouts={enc.layout.name}"
        )
        inputs = [] if self._in_stream is None else [self._source_chain(graph, aformat)]
        inputs += [self._layer_chain(graph, layer, aformat) for layer in tl.layers]
        if len(inputs) == 1:
            last = inputs[0]
        else:
            # Mixed at unit gain (no normalisation): each part keeps its own level.
            duration = "longest" if self._in_stream is None else "first"
            last = graph.add(
                "amix",
                inputs=str(len(inputs)),
                duration=duration,
                normalize="0",
                dropout_transition="0",
            )
            for i, node in enumerate(inputs):
                node.link_to(last, 0, i)
        sink = graph.add("abuffersink")
        last.link_to(sink)
        graph.configure()
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

    def _source_chain(self, graph: Graph, aformat: str) -> FilterContext:
        """The source audio: cut to the window, gains applied, time-stretched, resampled."""
        tl, origin = self.timeline, self.source.origin
        assert self._in_stream is not None
        trim = f"start={float(origin + tl.start):.9f}"
        if tl.end is not None:
            trim += f":end={float(origin + tl.end):.9f}"
        chain = [graph.add_abuffer(template=self._in_stream), graph.add("atrim", trim)]
        for gain in tl.gains:  # at source times (the frames keep their source timestamps here)
            chain.append(
                graph.add(
                    "volume",
                    volume=_volume(gain.gain_db),
                    enable=f"between(t,{float(origin + gain.start):.6f},"
                    f"{float(origin + gain.end):.6f})",
                )
            )
        chain += [graph.add("atempo", f"{f:.9f}") for f in _tempo_steps(tl.speed)]
        if tl.layers:  # the mix starts at output time 0
            chain.append(graph.add("asetpts", "PTS-STARTPTS"))
        chain.append(graph.add("aformat", aformat))
        graph.link_nodes(*chain)
        return chain[-1]

    def _layer_chain(self, graph: Graph, layer: AudioLayer, aformat: str) -> FilterContext:
        """An added sound: the part inside the window, stretched by the speed changes made
        after it was added, delayed to its place on the output."""
        tl = self.timeline
        rate = self.stream.codec_context.sample_rate
        index = _layer_stream_index(layer)
        chain = [graph.add("amovie", filename=layer.path, si=str(index))]
        skip = max(Fraction(0), (tl.start - layer.at) / layer.speed)  # seconds of the layer
        if skip:
            chain.append(graph.add("atrim", f"start={float(skip):.9f}"))
        chain.append(graph.add("asetpts", "PTS-STARTPTS"))
        chain += [graph.add("atempo", f"{f:.9f}") for f in _tempo_steps(tl.speed / layer.speed)]
        chain.append(graph.add("aformat", aformat))
        delay = round(max(Fraction(0), tl.to_output(layer.at)) * rate)
        if delay:
            chain.append(graph.add("adelay", delays=f"{delay}S", all="1"))
        if tl.end is not None:  # nothing past the window's end
            end = tl.to_output(tl.end)
            chain.append(graph.add("atrim", f"end={float(end):.9f}"))
        if layer.gain_db:
            chain.append(graph.add("volume", volume=_volume(layer.gain_db)))
        graph.link_nodes(*chain)
        return chain[-1]

    def _filtered(self, graph: Graph, src_start: Fraction) -> Iterator[av.AudioFrame]:
        def drain():
            while True:
                try:
                    frame = graph.pull()
                    assert isinstance(frame, av.AudioFrame)  # an abuffersink gives audio
                    yield frame
                except (av.error.BlockingIOError, av.error.EOFError):
                    return

        if self._in_stream is None:  # only added sound: the graph reads its own files
            self._first_in = src_start
            yield from drain()
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
        for packet in self._source_packets():
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                log.warning("skipped an undecodable audio packet")

    def _source_packets(self) -> Iterator[av.Packet]:
        """The source audio's packets in file order. Read to the end of the file, they are
        compared with the duration the container announces (see ``_check_complete``)."""
        assert self._input is not None and self._in_stream is not None
        tb = _time_base(self._in_stream)
        demux = self._input.demux(self._in_stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError:
                log.warning("audio ended early: the input is damaged")
                break
            if packet.pts is not None and packet.size:
                self._read_end = max(self._read_end, (packet.pts + (packet.duration or 0)) * tb)
            yield packet
        self._check_complete()

    def _check_complete(self) -> None:
        """Warn (fail when ``strict``) when the audio read ends well before the end the container
        announces for it, within the clip's range: the file was cut short."""
        assert self._in_stream is not None
        announced = announced_end(self._in_stream)
        if announced is None:
            return
        wanted = announced
        if self.timeline.end is not None:
            wanted = min(wanted, self.source.origin + self.timeline.end)
        if wanted - self._read_end <= Fraction(1, 5):
            return
        message = (
            f"{self.source.path}: the audio ends at {float(self._read_end):.2f} s of the "
            f"{float(announced):.2f} s the container announces; the file looks truncated"
        )
        if self.source.strict:
            raise MoviolaError(message + " (--strict)")
        log.warning("%s", message)

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
        for container in (self._input, self._template_input):
            if container is not None:
                container.close()


def _audio_stream(container: InputContainer, index: int, path: str) -> AudioStream:
    stream = container.streams[index]
    if not isinstance(stream, AudioStream):
        container.close()
        raise ValueError(f"stream {index} of {path} is not audio")
    return stream


def _layer_stream_index(layer: AudioLayer) -> int:
    """The index of the layer's audio stream among its file's audio streams (amovie's ``si``
    counts all streams: the absolute index)."""
    try:
        container = av.open(layer.path)
    except av.error.FFmpegError as exc:
        raise MoviolaError(f"cannot read the audio to mix in, {layer.path}: {exc}") from None
    with container:
        audio = container.streams.audio
        if not audio:
            raise MoviolaError(f"{layer.path} has no audio to mix in")
        if layer.stream is None:
            return audio[0].index
        if not any(s.index == layer.stream for s in audio):
            raise MoviolaError(f"stream {layer.stream} of {layer.path} is not audio")
        return layer.stream


def _layer_template(layer: AudioLayer) -> tuple[InputContainer, AudioStream]:
    """The layer file, open, and its audio stream (the encoder copies its rate and channels;
    the caller closes the container)."""
    index = _layer_stream_index(layer)
    try:
        container = av.open(layer.path)
    except av.error.FFmpegError as exc:
        raise MoviolaError(f"cannot read the audio to mix in, {layer.path}: {exc}") from None
    return container, _audio_stream(container, index, layer.path)


def _encoder_stream(
    output: OutputContainer, template: AudioStream, name: str, bit_rate: int | None
) -> AudioStream:
    """An encoder stream for ``name`` with the template's rate and channels (or the nearest the
    encoder takes)."""
    icc = template.codec_context
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


def _volume(gain_db: float) -> str:
    return "0" if gain_db <= -90 else f"{gain_db:.3f}dB"


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
