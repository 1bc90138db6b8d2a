"""``moviola lipsync VIDEO --audio SPEECH -o OUT``: a filmed face dubbed with new speech.

The speech's phonemes are found as for a presenter given a recording
(:mod:`moviola.speech.align`: Whisper's words, espeak-ng's phonemes spread over them); the
mouth parameters follow them (:class:`moviola.vision.faces.mouth.MouthTrack`, loudness counted
for 80 %, since the phonemes' places inside a word are estimates). Per frame, the face tracker
finds the largest face (its own head motion, blinks and expression stay as filmed); its mesh is
rigged (:class:`~moviola.vision.faces.mouth.MouthRig`, absolute mode: the gap between the lips
is set to the new speech's, so the face's own speaking is closed or opened over) and its lips
and jaw moved through the piecewise-affine mesh warp, the inside of the mouth painted where it
opens wider than filmed. Frames with no face pass unchanged. The new speech replaces the
sound from the clip's start (``mix``: is mixed over it); the picture keeps its length (speech
longer than the clip is cut, shorter leaves the rest of the clip with a closed mouth).

It runs as an effect in the ordinary pipeline (decode, compute and encode threads), so memory
does not grow with the clip; it is not in the effect registry (it is a command of its own, and
it needs a whole recording aligned before the first frame). The output is tagged, signed and
labelled ("SYNTHETIC LIP SYNC") like every synthetic face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_uint8
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, Param, parse_path
from moviola.vision.faces import FaceTracker, largest, synthetic_tags
from moviola.vision.faces.mouth import Loudness, MouthRig, MouthTrack, mouth_colours
from moviola.vision.meshwarp import draw_label

LABEL_TEXT = "SYNTHETIC LIP SYNC - moviola"


class LipSync(Effect):
    name = "lipsync"
    summary = "move a filmed face's mouth to new speech; the speech replaces the sound"
    kind = "model"
    params = (
        Param("audio", parse_path, None, "the new speech (any audio or video file)"),
        Param("mix", bool, False, "mix the new speech over the clip's sound instead"),
        Param("label", bool, True, "draw the visible 'synthetic' label (--no-label: off)"),
    )
    audio: str
    mix: bool
    label: bool

    def validate(self) -> None:
        if not self.audio:
            raise MoviolaError("lipsync: --audio SPEECH is required")
        if not Path(self.audio).is_file():
            raise MoviolaError(f"lipsync: --audio {self.audio}: no such file")

    def chunk_problem(self) -> str | None:
        return "the speech is aligned once for the whole clip"

    def tags(self) -> dict[str, str]:
        return synthetic_tags("lipsync")

    def map_timeline(self, timeline: Timeline) -> Timeline:
        if self.mix:
            return timeline.mixed(self.audio)
        return timeline.replaced(self.audio)

    def configure(self, info: StreamInfo) -> StreamInfo:
        from moviola.media.pcm import decode_mono
        from moviola.media.probe import probe
        from moviola.speech.align import align

        if not probe(self.audio).audio:
            raise MoviolaError(f"lipsync: --audio {self.audio} has no audio stream")
        aligned = align(self.audio)
        self.phonemes = aligned.phonemes
        loud = Loudness(decode_mono(self.audio, 16000), 16000)
        self._track = MouthTrack(self.phonemes, lead=0.08, loudness=loud, weight=0.8)
        self._tracker = FaceTracker(max_faces=1)
        self._face_id = -1
        self._tris: np.ndarray | None = None
        self._colours: tuple[np.ndarray, np.ndarray] | None = None
        self.faces_seen = 0
        return info.evolve(alpha=False)

    def process(self, frame: Frame) -> Frame:
        image = np.ascontiguousarray(to_uint8(frame.image)[..., :3])
        t = float(frame.time)
        dt = float(frame.duration) if frame.duration else 1 / 25
        params = self._track.at(t, dt)
        face = largest(self._tracker.update(image, t))
        if face is None:
            out = image.copy()
        else:
            self.faces_seen += 1
            mesh = face.landmarks.astype(np.float64)
            if face.id != self._face_id or self._tris is None:
                # a new face: its triangulation and mouth colours, kept while it is tracked
                first = MouthRig(mesh)
                self._tris, self._face_id = first.tris, face.id
                self._colours = mouth_colours(image, mesh)
            rig = MouthRig(mesh, tris=self._tris)
            assert self._colours is not None
            out, _ = rig.render(
                image, params, mouth_rgb=self._colours[0], teeth_rgb=self._colours[1]
            )
        if self.label:
            draw_label(out, LABEL_TEXT)
        return frame.with_image(like(out, frame.image.dtype))


def lipsync(
    video: str,
    audio: str,
    output: str,
    *,
    mix: bool = False,
    label: bool = True,
    **options,
):
    """Dub ``video``'s face with ``audio`` into ``output`` (see the module notes); ``options``
    are :class:`moviola.pipeline.RunOptions` fields. Returns the run's result and the effect
    (its ``faces_seen``)."""
    from moviola.pipeline import run

    effect = LipSync(audio=audio, mix=mix, label=label)
    result = run(video, output, [effect], **options)
    return result, effect


__all__ = ["LABEL_TEXT", "LipSync", "lipsync"]
