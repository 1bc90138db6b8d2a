"""`moviola faces`: track faces (468-point mesh, ids, smoothed) to JSON, with an overlay preview."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from moviola.commands._shared import bounded
from moviola.errors import MoviolaError
from moviola.media.atomic import commit, make_temp
from moviola.media.frame import Frame, to_uint8
from moviola.media.reader import VideoReader
from moviola.pipeline import RunOptions
from moviola.pipeline import run as run_pipeline
from moviola.pipeline.effect import Effect
from moviola.vision.faces import (
    DETECTOR,
    LANDMARKER,
    Face,
    FaceTracker,
    TrackerSettings,
    draw_faces,
)

SCHEMA_VERSION = 1


def add_parser(sub) -> None:
    p = sub.add_parser(
        "faces",
        help="track faces: 468-point mesh per face and frame, ids kept over time, to JSON",
        description="Find faces (MediaPipe BlazeFace), fit a 468-point 3-D face mesh to each, "
        "follow them from frame to frame with a track id per face, smooth the landmarks "
        "against jitter (One Euro filter) and write them to JSON. With -o, also write a "
        "preview video with the mesh drawn over the faces, and the input's audio.",
    )
    p.add_argument("input", help="the source video")
    p.add_argument("--json", required=True, metavar="TRACKS.json", help="where to write the tracks")
    p.add_argument("-o", "--output", metavar="PREVIEW", help="overlay preview video (optional)")
    p.add_argument(
        "--max-faces", type=bounded(int, 1, 16), default=4, help="most faces tracked at once (4)"
    )
    p.add_argument(
        "--detect-every",
        type=bounded(int, 1, 100_000),
        default=30,
        help="look for new faces every N frames while fewer than --max-faces are tracked (30)",
    )
    p.add_argument("--no-smooth", action="store_true", help="write the raw (unsmoothed) landmarks")
    p.add_argument("--start", help="start time (seconds or [HH:]MM:SS[.fff])")
    p.add_argument("--end", help="end time")
    p.add_argument("--no-audio", action="store_true", help="leave the audio out of the preview")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


class TrackWriter:
    """Writes the tracks JSON as frames arrive (nothing held but per-track counters)."""

    def __init__(self, path: str | os.PathLike, header: dict) -> None:
        self.path = Path(path)
        try:
            self.tmp = make_temp(self.path)  # mode from the umask; commit keeps a replaced one's
            self.fh = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise MoviolaError(f"cannot write {path}: {e.strerror or e}") from e
        text = json.dumps(header)[:-1]
        self.fh.write(text + ', "frames": [\n')
        self.first = True
        self.tracks: dict[int, dict] = {}
        self.frames = 0

    def add(self, index: int, time: float, faces: list[Face]) -> None:
        entry = {"index": index, "time": round(time, 6), "faces": [f.to_json() for f in faces]}
        self.fh.write(("" if self.first else ",\n") + json.dumps(entry, separators=(",", ":")))
        self.first = False
        self.frames += 1
        for f in faces:
            t = self.tracks.setdefault(
                f.id, {"id": f.id, "first": index, "last": index, "frames": 0}
            )
            t["last"] = index
            t["frames"] += 1

    def close(self) -> Path:
        tracks = sorted(self.tracks.values(), key=lambda t: t["id"])
        self.fh.write('\n], "tracks": ' + json.dumps(tracks) + "}\n")
        self.fh.close()
        commit(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class FaceOverlay(Effect):
    """Tracks faces, hands each frame's faces to a callback and draws them (not registered)."""

    name = "faces-overlay"
    summary = "draw the tracked face mesh"
    kind = "model"

    def __init__(
        self,
        tracker: FaceTracker,
        on_faces: Callable[[int, float, list[Face]], None],
        draw: bool = True,
    ) -> None:
        super().__init__()
        self.tracker, self.on_faces, self.draw = tracker, on_faces, draw

    def process(self, frame: Frame) -> Frame:
        image = to_uint8(frame.image)[..., :3]
        faces = self.tracker.update(image, float(frame.time))
        self.on_faces(frame.index, float(frame.time), faces)
        if not self.draw:
            return frame
        return frame.with_image(draw_faces(image, faces))


def track_file(
    input: str | Path,
    json_path: str | Path,
    *,
    output: str | Path | None = None,
    tracking: TrackerSettings | None = None,
    options: RunOptions | None = None,
) -> dict:
    """Track the faces of ``input`` into ``json_path`` (and a preview at ``output``).

    ``tracking`` says how faces are found and followed (max_faces, detect_every, smooth, ...);
    ``options`` which part of the input is read (start, end) and, for the preview, the run's
    options (audio, progress, encoder).
    """
    tracking = tracking or TrackerSettings()
    opts = options or RunOptions()
    if tracking.max_faces < 1:
        raise MoviolaError("--max-faces must be at least 1")
    if tracking.detect_every < 1:
        raise MoviolaError("--detect-every must be at least 1")
    if not Path(input).is_file():
        raise MoviolaError(f"input not found: {input}")
    if Path(json_path).resolve() == Path(input).resolve():
        raise MoviolaError(f"--json is the input file: {json_path} (choose another name)")
    if output is not None and Path(output).resolve() == Path(json_path).resolve():
        raise MoviolaError("--json and -o name the same file")
    reader = VideoReader(input, start=opts.start, end=opts.end)
    info = reader.stream_info
    tracker = FaceTracker(tracking)
    header = {
        "version": SCHEMA_VERSION,
        "source": str(input),
        "width": info.width,
        "height": info.height,
        "rate": float(info.rate) if info.rate else None,
        "landmarks": 468,
        "smoothed": tracking.smooth,
        "models": [DETECTOR, LANDMARKER],
        "units": "pixels; z is relative depth in the same scale (smaller = nearer)",
    }
    writer = TrackWriter(json_path, header)
    try:
        if output is None:
            with reader:
                for frame in reader:
                    image = to_uint8(frame.image)[..., :3]
                    writer.add(
                        frame.index, float(frame.time), tracker.update(image, float(frame.time))
                    )
        else:
            reader.close()
            run_pipeline(input, output, [FaceOverlay(tracker, writer.add)], opts)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return {
        "frames": writer.frames,
        "tracks": len(writer.tracks),
        "detections": tracker.detections_run,
    }


def run(args) -> int:
    from moviola.commands._shared import ProgressBar

    bar = None if args.quiet or args.output is None else ProgressBar()
    try:
        result = track_file(
            args.input,
            args.json,
            output=args.output,
            tracking=TrackerSettings(
                max_faces=args.max_faces,
                detect_every=args.detect_every,
                smooth=not args.no_smooth,
            ),
            options=RunOptions(
                start=args.start, end=args.end, audio=not args.no_audio, progress=bar
            ),
        )
    finally:
        if bar is not None:
            bar.finish()
    where = f" and {args.output}" if args.output else ""
    print(
        f"wrote {args.json}{where}: {result['frames']} frames, {result['tracks']} face tracks, "
        f"detector run {result['detections']} times"
    )
    return 0
