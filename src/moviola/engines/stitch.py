"""Joining rendered chunks into one file without re-encoding, with the source's audio muxed
once over the whole length (so there is no drift at chunk edges)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from fractions import Fraction
from pathlib import Path

import av

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.media.atomic import commit, make_temp
from moviola.media.audio import AudioSource, AudioTrack
from moviola.media.subtitles import SubtitleSource, add_track, cue_packets, mux_due, track_codec
from moviola.media.timeline import Timeline
from moviola.media.writer import resolve_target

log = logging.getLogger(__name__)


def stitch(
    parts: list[tuple[Path, Fraction]],
    output: str | Path,
    *,
    audio: AudioSource | None = None,
    subtitles: SubtitleSource | None = None,
    metadata: dict | None = None,
) -> tuple[Path, str]:
    """Copy the video packets of ``parts`` (file, time shift) in order into ``output``.

    Returns the final path and what happened to the audio ("copied", "re-encoded", "none").
    The output is written to a temporary file beside it and renamed when complete.
    """
    target = resolve_target(output)
    tmp: Path | None = make_temp(target.path)
    options = {"movflags": "+use_metadata_tags"} if target.muxer in ("mp4", "mov") else {}
    track = None
    audio_state = "none"
    try:
        with av.open(str(tmp), "w", format=target.muxer, options=options) as out:
            out.metadata.update(
                {
                    "software": f"moviola {__version__}",
                    **{k: str(v) for k, v in (metadata or {}).items()},
                }
            )
            first = av.open(str(parts[0][0]))
            template = first.streams.video[0]
            extradata = template.codec_context.extradata
            vs = out.add_stream_from_template(template)
            vs.time_base = template.time_base
            first.close()
            if audio is not None and audio.timeline.has_audio:
                track = AudioTrack(audio, out)
                audio_state = "copied" if track.copy else "re-encoded"
            cues = _cue_packets(out, target.path, subtitles)
            out.start_encoding()
            assert vs.time_base is not None  # copied from the first chunk
            out_tb = Fraction(vs.time_base)
            last_dts = None
            for path, shift in parts:
                with av.open(str(path)) as part:
                    stream = part.streams.video[0]
                    if stream.codec_context.extradata != extradata:
                        raise MoviolaError(
                            f"chunk {path.name} was encoded with other settings; "
                            "cannot join it without re-encoding"
                        )
                    assert stream.time_base is not None  # set for every demuxed stream
                    tb = Fraction(stream.time_base)
                    for packet in part.demux(stream):
                        if packet.size == 0 or packet.pts is None:
                            continue
                        pts = _ticks(packet.pts * tb + shift, out_tb)
                        dts = (
                            _ticks(packet.dts * tb + shift, out_tb)
                            if packet.dts is not None
                            else pts
                        )
                        if last_dts is not None and dts <= last_dts:
                            dts = last_dts + 1
                        last_dts = dts
                        duration = packet.duration
                        packet.stream = vs
                        packet.time_base = out_tb
                        packet.pts, packet.dts = pts, dts
                        if duration:
                            packet.duration = max(1, round(duration * tb / out_tb))
                        if track is not None:
                            track.mux_until(out, pts * out_tb)
                        mux_due(out, cues, pts * out_tb)
                        out.mux(packet)
            if track is not None:
                track.mux_until(out, None)
            mux_due(out, cues, None)
        commit(tmp, target.path)
        tmp = None
    finally:
        if track is not None:
            track.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return target.path, audio_state


def _cue_packets(out, path: Path, subtitles: SubtitleSource | None) -> list:
    """The subtitle tracks' packets, in time order (none where the container takes none)."""
    if subtitles is None:
        return []
    try:
        codec = track_codec(path)
    except MoviolaError:
        log.warning("%s cannot carry subtitle tracks: subtitles not written", path.suffix)
        return []
    packets = []
    for cues, language in subtitles.tracks():
        packets += cue_packets(add_track(out, codec, language), codec, cues)
    return sorted(packets, key=lambda p: p.pts or 0)


def _ticks(seconds: Fraction, tb: Fraction) -> int:
    """Seconds to ticks, halves rounded away from zero as FFmpeg rescales (so a joined file
    has the timestamps a single run's muxer writes)."""
    x = seconds / tb
    return math.floor(x + Fraction(1, 2)) if x >= 0 else -math.floor(-x + Fraction(1, 2))


def audio_source(
    source: str | Path,
    origin: Fraction,
    audio_index: int | None,
    timeline: Timeline,
) -> AudioSource | None:
    """The joined file's audio: the source's along ``timeline`` (the chain's, over the whole
    range: gains and sound the effects declared included), or None when there is none."""
    heard = audio_index is not None and timeline.audio == "keep"
    if not heard and not timeline.layers:
        return None
    return AudioSource(str(source), audio_index if heard else None, origin, timeline)
