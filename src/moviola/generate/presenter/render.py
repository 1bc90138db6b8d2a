"""A talking presenter from one portrait: speech, mouth, idle motion, card, subtitles, labels.

1. The speech: text (or a script) spoken by a voice of :mod:`moviola.speech.voices`, sentence by
   sentence into a temporary WAV, with Kokoro's phoneme timings (a Piper voice, which has
   none, and recorded ``--audio`` are aligned by :mod:`moviola.speech.align`).
2. The portrait sized to the output (the long side 512, a height of 720 for ``720p``, or
   ``WxH`` cropped to cover), its faces found (largest first) and the chosen one's mesh.
3. Per frame (a generator: frames are written as they are made, memory does not grow with the
   length): mouth parameters (:class:`moviola.vision.faces.mouth.MouthTrack`), blinks and brows
   (:mod:`.motion`) moved on the face mesh in one piecewise-affine warp, the mouth's inside
   painted, then the head's sway as a weighted similarity; with ``background`` the subject's
   matte (the matte effect, once, on the still) is moved with it and composited over the new
   background; the name card and the visible label last.
4. Written with the speech as its audio (exactly as long as the picture, within a frame), the
   sentences as a soft subtitle track, the synthetic tags, and C2PA signing where available.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.vision.faces.mouth import (
    OPEN,
    Loudness,
    MouthRig,
    MouthTrack,
    limit_rate,
    loudness_track,
    mouth_colours,
)

log = logging.getLogger("moviola")

LABEL_TEXT = "SYNTHETIC - moviola presenter"
RATES = ("24", "25", "30")


@dataclass
class PresenterSettings:
    portrait: str
    text: str | None = None
    script: str | None = None
    audio: str | None = None
    voice: str | None = None
    speed: float = 1.0
    face_index: int | None = None
    background: str | None = None
    name: str | None = None
    size: str = "512"
    fps: str = "25"
    label: bool = True
    subtitles: bool = True
    seed: int = 0
    sway: float = 1.0
    mouth: str = "phonemes"  # or "loudness": the baseline that opens on loudness alone


@dataclass
class Spoken:
    """The speech behind a presenter: a WAV file, its length, timed phonemes, sentences."""

    wav: Path
    stream: int
    duration: float
    phonemes: list
    sentences: list[tuple[str, float, float]]
    voice: str = ""
    aligned: bool = False  # phonemes found in the recording (not a voice's own timings)


@dataclass
class PresenterResult:
    output: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    duration: float
    elapsed: float
    faces: int
    face_index: int
    voice: str
    subtitles: int
    notes: list[str] = field(default_factory=list)

    @property
    def speed(self) -> float:
        return self.frames / self.elapsed if self.elapsed else 0.0


# --- inputs ---------------------------------------------------------------------------------------


def output_size(w: int, h: int, size: str) -> tuple[int, int, bool]:
    """(width, height, crop) for ``size``: "512" (the long side), "720p" (the height), "WxH"
    (exact, cropped to cover)."""
    s = size.strip().lower()
    try:
        if "x" in s:
            a, b = s.split("x")
            return _even(int(a)), _even(int(b)), True
        if s.endswith("p"):
            out_h = int(s[:-1])
            return _even(round(w * out_h / h)), _even(out_h), False
        n = int(s)
    except ValueError:
        raise MoviolaError(f"--size {size}: give 512, 720p or WxH") from None
    if not 64 <= n <= 4096:
        raise MoviolaError(f"--size {size}: between 64 and 4096 pixels")
    k = n / max(w, h)
    return _even(round(w * k)), _even(round(h * k)), False


def _even(n: int) -> int:
    if not 64 <= n <= 4096:
        raise MoviolaError(f"an output side of {n} pixels: between 64 and 4096")
    return n - n % 2


def load_portrait(path: str, size: str) -> np.ndarray:
    from moviola.media.frame import cover
    from moviola.media.still import read_rgb

    image = read_rgb(path, "portrait")
    h, w = image.shape[:2]
    ow, oh, crop = output_size(w, h, size)
    if crop:
        return np.ascontiguousarray(cover(image, (ow, oh), enlarge=cv2.INTER_CUBIC))
    interp = cv2.INTER_AREA if ow < w else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(image, (ow, oh), interpolation=interp))


def find_face(image: np.ndarray, index: int | None, name: str) -> tuple[np.ndarray, int, int]:
    """The chosen face's mesh (468 x 3), its index and how many faces there are (largest
    first)."""
    from moviola.vision.faces import (
        FaceDetector,
        FaceMesh,
        box_area,
        roi_from_detection,
        roi_from_landmarks,
    )

    faces = sorted(FaceDetector()(image), key=lambda d: -box_area(d.box))
    meshes = []
    model = FaceMesh()
    for det in faces:
        points, score = model(image, roi_from_detection(det))
        if score < 0.5:
            continue
        again, score2 = model(image, roi_from_landmarks(points))
        meshes.append(again if score2 >= 0.5 else points)
    if not meshes:
        raise MoviolaError(f"no face found in the portrait {name}")
    if index is None:
        if len(meshes) > 1:
            log.warning("%d faces in %s: the largest speaks (--face-index N chooses)",
                        len(meshes), name)  # fmt: skip
        index = 0
    if not 0 <= index < len(meshes):
        raise MoviolaError(
            f"--face-index {index}: the portrait {name} has {len(meshes)} face(s), "
            f"0 to {len(meshes) - 1} (largest first)"
        )
    return np.asarray(meshes[index], np.float64), index, len(meshes)


def _write_wav(path: Path, chunks: Iterator[np.ndarray], rate: int) -> int:
    n = 0
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        for chunk in chunks:
            pcm = (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2")
            f.writeframes(pcm.tobytes())
            n += len(pcm)
    return n


def speak_text(text: str, voice: str | None, speed: float, folder: Path) -> Spoken:
    """``text`` spoken into ``folder``/speech.wav, sentence by sentence (memory holds one)."""
    from moviola.speech.voices import PhonemeTiming, get_voice, pieces

    v = get_voice(voice)
    phonemes: list = []
    sentences: list[tuple[str, float, float]] = []
    rate = v.sample_rate
    offset = [0]

    def chunks() -> Iterator[np.ndarray]:
        nonlocal rate
        for sentence, piece in pieces(text, v, speed):
            rate = piece.sample_rate
            start = offset[0] / rate
            phonemes.extend(
                PhonemeTiming(p.phoneme, p.start + start, p.end + start) for p in piece.phonemes
            )
            spoken = len(piece.audio) - int(round((0.75 if sentence.paragraph_end else 0.3) * rate))
            sentences.append((sentence.text, start, start + max(spoken, 1) / rate))
            offset[0] += len(piece.audio)
            yield piece.audio

    wav = folder / "speech.wav"
    # the rate is known once the first sentence is spoken: Kokoro 24 kHz, Piper 22.05 kHz
    samples = _write_wav(wav, chunks(), v.sample_rate)
    spoken = Spoken(wav, 0, samples / v.sample_rate, phonemes, sentences, v.name)
    if not phonemes:  # Piper gives no timings: align its audio as a recording
        from moviola.speech.align import align

        spoken.phonemes, spoken.aligned = align(wav).phonemes, True
    return spoken


def recorded(path: str) -> Spoken:
    from moviola.media.probe import probe
    from moviola.speech.align import align

    if not Path(path).is_file():
        raise MoviolaError(f"--audio {path}: no such file")
    info = probe(path)
    if not info.audio:
        raise MoviolaError(f"--audio {path} has no audio stream")
    stream = info.audio[0]
    duration = float(stream.duration or info.duration or 0)
    if duration <= 0:
        raise MoviolaError(f"--audio {path} is empty")
    found = align(path)
    return Spoken(Path(path), stream.index, duration, found.phonemes, found.sentences, "", True)


def _text(s: PresenterSettings) -> str | None:
    given = [x for x in (s.text, s.script, s.audio) if x is not None]
    if len(given) != 1:
        raise MoviolaError("give one of --text T, --script FILE or --audio FILE")
    if s.script is not None:
        try:
            return Path(s.script).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise MoviolaError(f"cannot read script {s.script}: {e}") from None
    return s.text


def mouth_track(phonemes: list, loudness: Loudness, aligned: bool) -> MouthTrack:
    """The mouth for a voice's own phoneme timings (``aligned`` False: exact, loudness counts
    for half the opening) or for phonemes aligned to a recording (their places inside words
    are estimates: loudness counts for 80 %); bench/presenter.py measured both."""
    if aligned:
        return MouthTrack(phonemes, lead=0.08, loudness=loudness, weight=0.8)
    return MouthTrack(phonemes, lead=0.05, loudness=loudness, weight=0.5)


# --- rendering ------------------------------------------------------------------------------------


class Presenter:
    """A portrait ready to speak: call :meth:`render` with the output path."""

    def __init__(self, settings: PresenterSettings) -> None:
        from moviola.media.time import parse_rate
        from moviola.speech.voices.text import check_speakable

        self.settings = s = settings
        if s.fps not in RATES:
            raise MoviolaError(f"--fps {s.fps}: one of {', '.join(RATES)}")
        self.fps = parse_rate(s.fps)
        self.text = _text(s)
        if self.text is not None:
            check_speakable(self.text)
        if not Path(s.portrait).is_file():
            raise MoviolaError(f"the portrait {s.portrait} does not exist")
        self.image = load_portrait(s.portrait, s.size)
        self.mesh, self.face_index, self.faces = find_face(self.image, s.face_index, s.portrait)
        self.height, self.width = self.image.shape[:2]

    def _alpha(self) -> np.ndarray | None:
        """The subject's matte (0..255) of the still portrait, from the matte effect."""
        if self.settings.background is None:
            return None
        from moviola.pipeline import create

        matte = create("matte", background="transparent")
        info = StreamInfo(self.width, self.height, Fraction(25), Fraction(1, 25), frames=4)
        matte.configure(info)
        out = None
        for i in range(4):  # recurrent: a few passes over the still settle its state
            out = matte.process(Frame(self.image, Fraction(i, 25), Fraction(1, 25), i))
        matte.close()
        assert isinstance(out, Frame)
        return np.ascontiguousarray(out.image[..., 3])

    def _background(self) -> np.ndarray | None:
        if self.settings.background is None:
            return None
        from moviola.media.frame import cover
        from moviola.media.still import read_rgb

        bg = read_rgb(self.settings.background, "background")
        return np.ascontiguousarray(cover(bg, (self.width, self.height), enlarge=cv2.INTER_CUBIC))

    def track(self, spoken: Spoken, count: int) -> np.ndarray:
        """Mouth parameters of every frame (count x 4)."""
        from moviola.media.pcm import decode_mono

        fps = float(self.fps)
        loud = Loudness(decode_mono(spoken.wav, 16000, spoken.stream), 16000)
        if self.settings.mouth == "loudness":
            times = (np.arange(count) + 0.5) / fps
            return limit_rate(loudness_track(loud(times)), 1 / fps)
        return mouth_track(spoken.phonemes, loud, spoken.aligned).frames(count, fps)

    def frames(self, spoken: Spoken, count: int) -> Iterator[np.ndarray]:
        """The presenter's frames, one at a time."""
        from moviola.vision.faces.mouth import stresses
        from moviola.vision.meshwarp import draw_label

        from . import motion
        from .overlay import NameCard

        s = self.settings
        fps = float(self.fps)
        params = self.track(spoken, count)
        rig = MouthRig(self.mesh, closing=0.5, relative=True)
        face = motion.FaceMotion(rig)
        plan = motion.plan(spoken.duration, stresses(spoken.phonemes), s.seed, s.sway)
        alpha = self._alpha()
        background = self._background()
        sway = motion.HeadSway(self.mesh, self.width, self.height, alpha)
        card = NameCard(s.name, self.width, self.height) if s.name else None
        mouth_rgb, teeth_rgb = mouth_colours(self.image, self.mesh)
        for i in range(count):
            t = i / fps
            extra = face.displacement(motion.blink_amount(plan, t), motion.brow_amount(plan, t))
            face_img, _ = rig.render(
                self.image, params[i], mouth_rgb=mouth_rgb, teeth_rgb=teeth_rgb, extra=extra
            )
            mx, my = sway.maps(*motion.sway(plan, t))
            out = cv2.remap(face_img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if alpha is not None and background is not None:
                a = cv2.remap(alpha, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                a = (a.astype(np.float32) / 255.0)[..., None]
                out = (out * a + background * (1 - a)).astype(np.uint8)
            if card is not None:
                card.draw(out, t, spoken.duration)
            if s.label:
                draw_label(out, LABEL_TEXT)
            yield out

    def speech(self, folder: Path) -> Spoken:
        s = self.settings
        if s.audio is not None:
            return recorded(s.audio)
        assert self.text is not None
        return speak_text(self.text, s.voice, s.speed, folder)

    def render(
        self,
        output: str | os.PathLike,
        *,
        crf: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PresenterResult:
        from moviola.media import AudioSource, Timeline, VideoWriter
        from moviola.media.cues import Cue, write_srt
        from moviola.media.subtitles import SubtitleSource
        from moviola.vision.faces import synthetic_tags

        started = time.monotonic()
        s = self.settings
        fps = self.fps
        with tempfile.TemporaryDirectory(prefix="moviola-presenter-") as tmp:
            folder = Path(tmp)
            spoken = self.speech(folder)
            count = max(1, round(spoken.duration * fps))
            end = Fraction(count) / fps
            info = StreamInfo(self.width, self.height, fps, 1 / fps, frames=count, duration=end)
            audio = AudioSource(str(spoken.wav), spoken.stream, Fraction(0), Timeline(end=end))
            subs = None
            cues = [
                Cue(_frac(a), _frac(min(b, float(end))), text)
                for text, a, b in spoken.sentences
                if text and a < float(end)
            ]
            if s.subtitles and cues:
                srt = write_srt(cues, folder / "subtitles.srt")
                subs = SubtitleSource(str(srt), ((0, "subrip", "eng"),), Fraction(0), None)
            tags = {**synthetic_tags("presenter"), "title": "moviola presenter"}
            writer = VideoWriter(output, info, crf=crf, audio=audio, subtitles=subs, metadata=tags)
            try:
                for i, image in enumerate(self.frames(spoken, count)):
                    writer.write(Frame(image, Fraction(i) / fps, 1 / fps, i))
                    if progress is not None:
                        progress(i + 1, count)
                path = writer.close()
            except BaseException:
                writer.abort()
                raise
        kind = "faces" if s.audio is not None else "faces and speech"
        notes = sign(path, "presenter", s.portrait, "created", kind)
        return PresenterResult(
            output=path,
            frames=count,
            width=self.width,
            height=self.height,
            fps=fps,
            duration=spoken.duration,
            elapsed=time.monotonic() - started,
            faces=self.faces,
            face_index=self.face_index,
            voice=spoken.voice or "(recorded)",
            subtitles=len(cues) if s.subtitles else 0,
            notes=notes,
        )


def _frac(x: float) -> Fraction:
    return Fraction(x).limit_denominator(1000)


def sign(path: Path, tool: str, ingredient: str, action: str, kind: str = "faces") -> list[str]:
    """C2PA-sign ``path`` (media/provenance.py) as synthetic ``kind`` made by ``tool``."""
    import importlib

    try:
        provenance = importlib.import_module("moviola.media.provenance")
    except ImportError:
        return ["not C2PA-signed: moviola.media.provenance is not installed"]
    signed = provenance.sign(path, kind=kind, tool=tool, ingredient=ingredient, action=action)
    return [] if signed is not None else ["not C2PA-signed: c2pa-python is not installed"]


def opening_series(frames: Iterator[np.ndarray]) -> np.ndarray:
    """Mouth opening measured by the face tracker on rendered frames (NaN where no face)."""
    from moviola.vision.faces import FaceTracker, largest
    from moviola.vision.faces.mouth import mouth_opening

    tracker = FaceTracker(max_faces=1, smooth=False)
    out = []
    for i, image in enumerate(frames):
        face = largest(tracker.update(image, i / 25.0))
        out.append(np.nan if face is None else mouth_opening(face.raw_landmarks))
    return np.asarray(out)


__all__ = ["OPEN", "Presenter", "PresenterResult", "PresenterSettings", "opening_series"]
