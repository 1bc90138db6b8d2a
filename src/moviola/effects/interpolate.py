"""interpolate: new frames between frames (RIFE), for frame-rate conversion and slow motion.

Model: RIFE's IFNet (HDv3 release, 3 M parameters), converted once from its PyTorch checkpoint to
ONNX (``moviola models fetch rife-hdv3``; see moviola.models.ifnet) and run with ONNX Runtime.
For a pair of frames the network gives the motion to the moment halfway between them: two
backward flows (where each pixel of the middle frame comes from in frame 0 and in frame 1) and
a blend mask.

Any moment, not only the middle: this checkpoint has no time input (the later RIFE 4.x models
do), so a frame at time ``t`` in (0, 1) is made from the pair's one flow estimate by scaling it
to ``t`` under constant motion -- the flow into frame 0 times ``2t``, into frame 1 times
``2(1 - t)`` -- and by weighting the blend mask towards the nearer frame (``(1 - t) * mask``
against ``t * (1 - mask)``). At ``t = 0.5`` this is exactly RIFE's own output. One network run
per pair serves every new frame of that pair (7 for ``multi=8``), where RIFE's own scripts
bisect (run the network on the new middle frame again, 7 runs for 8x) or only allow powers of
two; bench/interpolate.py compares the two on real footage.

Timing: every output frame has an exact time (Fraction). ``fps`` puts frames on the ticks of the
new rate (duration kept, so the audio is unchanged), ``multi`` splits every frame interval into
N (N times the frames and the rate; variable frame rate is kept), ``slowmo`` does the same and
stretches the time by N (N times slower at the same rate; the audio is slowed with its pitch
kept, or dropped). A fractional ``slowmo`` puts frames on the ticks of the input's nominal rate.

Cuts: a frame is never morphed into a frame of another shot. A cheap detector compares small
thumbnails of consecutive frames (``moviola.vision.cuts.frame_change``: a structural change
that no motion of up to 5 px in a 64-px thumbnail explains, or a colour change); across a cut
every new frame repeats the source frame nearest to it in time. In the opencv-doc Megamind.avi
its three cuts score 0.78..0.91 and the fade-in from black 0.46, every other pair of frames
under 0.02.

Held frames: animation drawn on twos (each drawing shown for two frames), on threes, and screen
captures repeat frames. Interpolating each frame interval on its own would move on one interval
and freeze on the next: judder at half the rate. Instead a run of repeated frames counts as one
picture shown from its first frame, and the motion to the next picture is spread evenly from
there (on twos at 24 fps, every 1/12 s of motion is interpolated over 1/12 s): motion is even
and each drawing is reached at the time it appears in the source. A run longer than
``max_hold`` frames is a real pause, not a drawing rate: it stays still, and the motion starts
from its last frame. Duplicates are found on thumbnails (``moviola.vision.cuts.same_picture``:
no pixel of a 128-px-wide grey thumbnail changes by more than a few levels), so compression
noise does not hide them.

Large frames: the flow is estimated at a reduced resolution (``scale``: 1 up to 2K, 0.5 up to
4K, 0.25 beyond; RIFE's own advice), frames are zero-padded to multiples of 32 / scale for the
network, and the new frames are warped at full resolution. Memory: the effect holds the previous
picture (and its network input) and the times of the frames still to make, never more frames.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float
from moviola.media.timeline import Timeline
from moviola.models.ifnet import SCALES, pad_multiple  # plain constants: no torch imported
from moviola.models.runtime.base import Session
from moviola.pipeline import Effect, Param, parse_fraction, parse_rate, register
from moviola.vision.cuts import FrameSignature, frame_change, frame_signature, same_picture

log = logging.getLogger("moviola")

MODEL_ID = "rife-hdv3"
_BISECT_DEPTH = 3  # levels of bisection with bisect=true (exact for 2x, 4x, 8x)


def auto_scale(width: int, height: int) -> float:
    """RIFE's flow scale for a frame size: 1 up to 2K, 0.5 up to 4K (its advice), 0.25 beyond."""
    pixels = width * height
    if pixels <= 2048 * 1152:
        return 1.0
    if pixels <= 4096 * 2304:
        return 0.5
    return 0.25


# --- the network ---------------------------------------------------------------------------------


class FlowNet:
    """RIFE on ONNX Runtime for one frame size: pairs of frames in, ``Motion`` out."""

    def __init__(self, session: Session, width: int, height: int, scale: float) -> None:
        self.session = session
        self.size = (width, height)
        self.scale = scale
        m = pad_multiple(scale)
        self.padded = (math.ceil(width / m) * m, math.ceil(height / m) * m)
        self.runs = 0

    def tensor(self, image: np.ndarray) -> np.ndarray:
        """RGB (any dtype) -> 1 x 3 x H' x W' float32, zero-padded to the network's multiple."""
        rgb = to_float(image[..., :3])
        w, h = self.size
        pw, ph = self.padded
        out = np.zeros((1, 3, ph, pw), np.float32)
        out[0, :, :h, :w] = rgb.transpose(2, 0, 1)
        return out

    def motion(self, x0: np.ndarray, x1: np.ndarray) -> Motion:
        outputs = self.session.run(
            {"img0": x0, "img1": x1, "scale": np.array(self.scale, np.float32)}
        )
        self.runs += 1
        w, h = self.size
        flow = outputs["flow"][0, :, :h, :w]
        mask = outputs["mask"][0, 0, :h, :w]
        return Motion(flow, mask)

    def frames(
        self,
        img0: np.ndarray,
        x0: np.ndarray,
        img1: np.ndarray,
        x1: np.ndarray,
        times: list[float],
        depth: int = 0,
    ) -> dict[float, np.ndarray]:
        """Frames at ``times`` (sorted, in (0, 1)) between two float images and their inputs.

        ``depth`` 0: one network run, its flow scaled to each time. Above 0: bisection, as
        RIFE's own scripts do: the middle frame is made, and the network runs again on each
        half that holds a wanted time, down to ``depth`` levels (then scaled within the half).
        Only the halves on the current path are held, so memory stays a few frames.
        """
        motion = self.motion(x0, x1)
        if depth == 0 or times == [0.5]:
            return {t: motion.at(img0, img1, t) for t in times}
        mid = motion.at(img0, img1, 0.5)
        del motion
        out = {0.5: mid} if 0.5 in times else {}
        left = [t * 2 for t in times if t < 0.5]
        right = [t * 2 - 1 for t in times if t > 0.5]
        if not (left or right):
            return out
        x_mid = self.tensor(mid)
        if left:
            got = self.frames(img0, x0, mid, x_mid, left, depth - 1)
            out.update({t / 2: image for t, image in got.items()})
        if right:
            got = self.frames(mid, x_mid, img1, x1, right, depth - 1)
            out.update({(t + 1) / 2: image for t, image in got.items()})
        return out


class Motion:
    """The network's answer for one pair: frames at any time between them."""

    def __init__(self, flow: np.ndarray, mask: np.ndarray) -> None:
        self.flow = flow  # 4 x H x W: middle -> frame 0 (x, y), middle -> frame 1 (x, y)
        self.mask = mask  # H x W: weight of frame 0 in the middle frame
        h, w = mask.shape
        self._xs = np.arange(w, dtype=np.float32)[None, :]
        self._ys = np.arange(h, dtype=np.float32)[:, None]

    def _warp(self, image: np.ndarray, fx: np.ndarray, fy: np.ndarray, k: float) -> np.ndarray:
        mx = self._xs + fx * np.float32(k)
        my = self._ys + fy * np.float32(k)
        out = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out if out.ndim == 3 else out[..., None]

    def at(self, img0: np.ndarray, img1: np.ndarray, t: float) -> np.ndarray:
        """The frame at ``t`` in (0, 1) between float32 images ``img0`` and ``img1`` (H x W x C)."""
        f = self.flow
        warped0 = self._warp(img0, f[0], f[1], 2 * t)
        warped1 = self._warp(img1, f[2], f[3], 2 * (1 - t))
        w0 = (1 - t) * self.mask
        w1 = t * (1 - self.mask)
        weight = (w0 / np.maximum(w0 + w1, 1e-6))[..., None]
        return warped1 + (warped0 - warped1) * weight


# --- the effect ----------------------------------------------------------------------------------


@dataclass
class _Slot:
    """An output frame still to make: its time, duration, and the source time it shows."""

    time: Fraction
    duration: Fraction
    source: Fraction


@dataclass
class _Key:
    """A picture the motion starts from: a source frame and its float image and network input."""

    frame: Frame
    image: np.ndarray | None = None
    tensor: np.ndarray | None = None


@register
class Interpolate(Effect):
    name = "interpolate"
    summary = (
        "New frames between frames (RIFE): any frame rate (exact, e.g. 60000/1001), N times "
        "the frames, or N times slower. No morphing across cuts; held frames stay smooth."
    )
    kind = "model"
    timing = "retime"
    # Pairs of pictures, and runs of held pictures (animation on twos and threes): exact at
    # chunk edges unless one picture is held longer than this.
    context_frames = 4
    lookahead_frames = 4
    params = (
        Param(
            "fps",
            parse_rate,
            None,
            "target frame rate, e.g. 60, 60000/1001, 59.94; duration and audio unchanged",
            min=Fraction(1, 1000),
            max=1000,
        ),
        Param(
            "multi",
            int,
            None,
            "N times the frames (and the rate): N-1 new frames in every interval",
            min=2,
            max=64,
        ),
        Param(
            "slowmo",
            parse_fraction,
            None,
            "N times slower: N times the frames at the same rate, N times longer",
            min=1,
            max=64,
        ),
        Param(
            "audio",
            str,
            None,
            "with slowmo: tempo (slowed down, pitch kept; default) or drop",
            choices=("tempo", "drop"),
        ),
        Param(
            "scale",
            str,
            "auto",
            "flow resolution (RIFE's scale): auto (1 up to 2K, "
            "0.5 up to 4K, 0.25 beyond), 0.25, 0.5, 1, or 2 (finer, small frames)",
        ),
        Param(
            "cut_threshold",
            float,
            0.4,
            "scene change (0..1: a change of structure that no "
            "small motion explains, or of colour) that counts as a cut: no morphing across "
            "it, the nearest frame is repeated; 1: never",
            min=0.0,
            max=1.0,
        ),
        Param(
            "max_hold",
            int,
            4,
            "runs of up to this many repeated frames (animation on "
            "twos, threes; screen captures) count as one picture and the motion is spread "
            "evenly across them; longer runs stay still; 1: off",
            min=1,
            max=64,
        ),
        Param(
            "bisect",
            bool,
            False,
            "bisect as RIFE's own scripts do: the network runs again "
            "on each new middle frame (N-1 runs per pair for 4x, 8x instead of 1); slower, "
            "and on real footage within 0.1 dB of the default",
        ),
        Param(
            "model_path",
            str,
            None,
            "an ONNX file with rife-hdv3's interface to use "
            "instead (inputs img0, img1, scale; outputs flow, mask)",
        ),
    )
    fps: Fraction | None
    multi: int | None
    slowmo: Fraction | None
    audio: str | None
    scale: str
    cut_threshold: float
    max_hold: int
    bisect: bool
    model_path: str | None

    # -- parameters -----------------------------------------------------------------------------
    def validate(self) -> None:
        given = [n for n in ("fps", "multi", "slowmo") if getattr(self, n) is not None]
        if len(given) != 1:
            raise MoviolaError(
                "interpolate: give one of fps, multi or slowmo"
                + (f" (got {', '.join(given)})" if given else " (e.g. fps=60, multi=2, slowmo=4)")
            )
        if self.slowmo is not None and self.slowmo <= 1:
            raise MoviolaError("interpolate: slowmo must be above 1 (speed makes clips faster)")
        if self.audio is not None and self.slowmo is None:
            raise MoviolaError(
                "interpolate: audio applies to slowmo only (fps and multi keep the audio as it "
                "is; --no-audio drops it)"
            )
        _flow_scale(self.scale)
        if self.model_path is not None:
            path = Path(os.path.expanduser(self.model_path))
            if not path.is_file():
                raise MoviolaError(f"interpolate: model file not found: {path}")

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        from moviola.models import ensure
        from moviola.models.runtime import open_session

        path = Path(os.path.expanduser(self.model_path)) if self.model_path else ensure(MODEL_ID)
        session = open_session(path)
        if not {"img0", "img1", "scale"} <= set(session.input_names) or not {"flow", "mask"} <= set(
            session.output_names
        ):
            raise MoviolaError(
                f"interpolate: {path.name} has inputs {', '.join(session.input_names)}; "
                "expected img0, img1, scale (outputs flow, mask)"
            )
        scale = _flow_scale(self.scale) or auto_scale(info.width, info.height)
        self.net = FlowNet(session, info.width, info.height, scale)
        # counters, for tests and the benchmark
        self.cuts: list[Fraction] = []
        self.held_runs = 0
        self._key: _Key | None = None  # where the motion to the next picture starts
        self._last: Frame | None = None  # the latest source frame
        self._last_sig: FrameSignature | None = None
        self._run = 0  # frames in the current run of one picture
        self._pending: list[_Slot] = []  # slots waiting for the next picture
        self._k = 0  # next tick (tick mode)

        duration = info.duration
        whole = self.slowmo if self.slowmo is not None and self.slowmo.denominator == 1 else None
        n = self.multi if self.multi is not None else whole
        if n is not None:
            # split every source interval into n
            self._n = int(n)
            self._stretch = Fraction(self._n) if self.slowmo is not None else Fraction(1)
            self._tick = None
            frames = info.frames * self._n if info.frames is not None else None
            if self.slowmo is not None:
                return info.evolve(frames=frames, duration=_times(duration, self._stretch))
            return info.evolve(
                rate=info.rate * self._n, time_base=info.time_base / self._n, frames=frames
            )
        # ticks of an output rate
        self._stretch = Fraction(self.slowmo) if self.slowmo is not None else Fraction(1)
        rate = self.fps if self.fps is not None else info.rate
        self._tick = 1 / rate
        out_duration = _times(duration, self._stretch)
        frames = round(out_duration * rate) if out_duration is not None else None
        return info.evolve(
            rate=rate,
            time_base=self._tick,
            variable_rate=False,
            frames=frames,
            duration=out_duration,
        )

    def map_timeline(self, timeline: Timeline) -> Timeline:
        if self.slowmo is None:
            return timeline
        timeline = timeline.sped(1 / self.slowmo)
        return timeline.without_audio() if self.audio == "drop" else timeline

    # -- slots ----------------------------------------------------------------------------------
    def _slots(self, start: Fraction, end: Fraction, last: bool = False) -> list[_Slot]:
        """Output frames whose source time lies in [start, end); at the clip's ``last`` end the
        ticks round to the nearest, as the fps effect does."""
        if self._tick is None:
            step = (end - start) / self._n
            return [
                _Slot((start + j * step) * self._stretch, step * self._stretch, start + j * step)
                for j in range(self._n)
            ]
        out = []
        src_tick = self._tick / self._stretch
        while True:
            source = self._k * src_tick
            if (source + src_tick / 2 >= end) if last else (source >= end):
                break
            out.append(_Slot(self._k * self._tick, self._tick, source))
            self._k += 1
        return out

    @staticmethod
    def _copy(slot: _Slot, frame: Frame) -> Frame:
        return Frame(frame.image, slot.time, slot.duration, frame.index, frame.meta)

    # -- per frame ------------------------------------------------------------------------------
    def process(self, frame: Frame) -> list[Frame]:
        sig = frame_signature(frame.image)
        last, self._last = self._last, frame
        last_sig, self._last_sig = self._last_sig, sig
        if last is None:
            self._key, self._run = _Key(frame), 1
            if self._tick is None:
                return []
            # ticks before the first frame (a clip that does not start at 0) show it
            return [self._copy(s, frame) for s in self._slots(Fraction(0), frame.time)]
        if frame.time <= last.time:
            raise MoviolaError(
                f"interpolate: frame times must increase (frame {frame.index} at "
                f"{float(frame.time):.3f} s)"
            )
        slots = self._slots(last.time, frame.time)
        key = self._key
        assert key is not None and last_sig is not None  # set with the first frame
        if frame_change(last_sig, sig) > self.cut_threshold:
            self.cuts.append(frame.time)
            log.debug("interpolate: cut at %.3f s", float(frame.time))
            out = [self._copy(s, key.frame) for s in self._pending]
            for s in slots:  # the nearer frame; ties to the earlier
                nearer = last if s.source - last.time <= frame.time - s.source else frame
                out.append(self._copy(s, nearer))
            self._pending = []
            self._key, self._run = _Key(frame), 1
            return out
        if self.max_hold > 1 and same_picture(last_sig, sig):
            self._run += 1
            self._pending.extend(slots)
            if self._run == 2:
                self.held_runs += 1
            if self._run <= self.max_hold:
                return []  # wait for the next picture
            # a pause: stay still; the motion starts from the latest repeat
            out = [self._copy(s, key.frame) for s in self._pending]
            self._pending = []
            self._key = _Key(frame)
            return out
        new = _Key(frame)
        out = self._between(key, new, self._pending + slots)
        self._pending = []
        self._key, self._run = new, 1
        return out

    def _between(self, key: _Key, new: _Key, slots: list[_Slot]) -> list[Frame]:
        """Frames for ``slots`` on the way from picture ``key`` to picture ``new``."""
        start, span = key.frame.time, new.frame.time - key.frame.time
        times = [(s.source - start) / span for s in slots]
        wanted = sorted({float(t) for t in times if t > 0})
        images: dict[float, np.ndarray] = {}
        if wanted:
            img0, x0 = self._inputs(key)
            img1, x1 = self._inputs(new)
            depth = _BISECT_DEPTH if self.bisect else 0
            images = self.net.frames(img0, x0, img1, x1, wanted, depth)
        out = []
        for slot, t in zip(slots, times, strict=True):
            if t == 0:
                out.append(self._copy(slot, key.frame))
            else:
                image = like(images[float(t)], new.frame.image.dtype)
                out.append(Frame(image, slot.time, slot.duration, key.frame.index, key.frame.meta))
        return out

    def _inputs(self, key: _Key) -> tuple[np.ndarray, np.ndarray]:
        """A picture's float image and network input, made once."""
        if key.image is None or key.tensor is None:
            key.tensor = self.net.tensor(key.frame.image)
            key.image = to_float(key.frame.image)
        return key.image, key.tensor

    def flush(self) -> list[Frame]:
        """The last picture fills the rest of the clip (the frames still waiting for a next
        picture, and the last frame's own interval)."""
        last = self._last
        if last is None:
            return []
        slots = self._pending + self._slots(last.time, last.end, last=True)
        self._pending = []
        self._last = self._key = None
        return [self._copy(s, last) for s in slots]


def _flow_scale(text: str) -> float | None:
    """The ``scale`` parameter as a number; None for auto."""
    raw = str(text).strip().lower()
    if raw == "auto":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value not in SCALES:
        raise MoviolaError(f"interpolate: scale must be auto, 0.25, 0.5, 1 or 2, not {text!r}")
    return value


def _times(value: Fraction | None, factor: Fraction) -> Fraction | None:
    return value * factor if value is not None else None
