"""The data the editing assistant passes around: shots of a video and SMPTE timecodes.

Frames are counted from 0 at the first decoded frame of the file; ``end_frame`` is inclusive.
Times are exact fractions of a second from the start of the file's first frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

TRANSITIONS = ("start", "cut", "dissolve", "fade")


def timecode_base(rate: Fraction) -> tuple[int, bool]:
    """Timecode frames per second and whether drop-frame counting applies (29.97, 59.94)."""
    base = round(rate)
    drop = rate.denominator == 1001 and base in (30, 60)
    return max(base, 1), drop


def timecode(frame: int, rate: Fraction, drop_frame: bool | None = None) -> str:
    """SMPTE timecode of a frame number: HH:MM:SS:FF, or HH:MM:SS;FF with drop-frame at 29.97
    and 59.94 (frame numbers 0 and 1 of each minute skipped, except every tenth minute)."""
    base, drop = timecode_base(rate)
    if drop_frame is not None:
        drop = drop_frame and drop
    if drop:
        dropped = 2 * base // 30  # 2 at 29.97, 4 at 59.94
        per_minute = base * 60 - dropped
        per_ten = base * 600 - dropped * 9
        tens, rest = divmod(frame, per_ten)
        extra = dropped * 9 * tens
        if rest > dropped:
            extra += dropped * ((rest - dropped) // per_minute)
        frame += extra
    ff = frame % base
    seconds = frame // base
    sep = ";" if drop else ":"
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{ff:02d}"


@dataclass
class Shot:
    """One shot: frames ``start_frame``..``end_frame`` (inclusive)."""

    index: int
    start_frame: int
    end_frame: int
    start: Fraction  # time of the first frame, seconds
    end: Fraction  # time just after the last frame (start of the next shot), seconds
    transition: str = "cut"  # how this shot begins: one of TRANSITIONS
    transition_frames: int = 0  # length of a dissolve or fade into this shot
    extra: dict[str, Any] = field(default_factory=dict)  # descriptions, scores, thumbnails

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    @property
    def duration(self) -> Fraction:
        return self.end - self.start

    def to_dict(self, rate: Fraction) -> dict[str, Any]:
        out = {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_timecode": timecode(self.start_frame, rate),
            "end_timecode": timecode(self.end_frame, rate),
            "start_seconds": float(self.start),
            "end_seconds": float(self.end),
            "frames": self.frames,
            "transition": self.transition,
            "transition_frames": self.transition_frames,
        }
        out.update(self.extra)
        return out


@dataclass
class ShotList:
    """The shots of one video, with what is needed to place them on a timeline."""

    source: str
    rate: Fraction  # nominal frame rate, exact
    width: int
    height: int
    frames: int
    shots: list[Shot]
    detector: str = ""
    audio: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rate": f"{self.rate.numerator}/{self.rate.denominator}",
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "detector": self.detector,
            "audio": self.audio,
            "shots": [s.to_dict(self.rate) for s in self.shots],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShotList:
        rate = Fraction(data["rate"])
        keys = {"index", "start_frame", "end_frame", "transition", "transition_frames"}
        shots = []
        for item in data["shots"]:
            shots.append(
                Shot(
                    index=item["index"],
                    start_frame=item["start_frame"],
                    end_frame=item["end_frame"],
                    start=Fraction(item["start_frame"]) / rate
                    if "start_seconds" not in item
                    else Fraction(item["start_seconds"]).limit_denominator(1_000_000),
                    end=Fraction(item["end_frame"] + 1) / rate
                    if "end_seconds" not in item
                    else Fraction(item["end_seconds"]).limit_denominator(1_000_000),
                    transition=item.get("transition", "cut"),
                    transition_frames=item.get("transition_frames", 0),
                    extra={
                        k: v
                        for k, v in item.items()
                        if k not in keys
                        and not k.endswith(("_timecode", "_seconds"))
                        and k != "frames"
                    },
                )
            )
        return cls(
            source=data["source"],
            rate=rate,
            width=data["width"],
            height=data["height"],
            frames=data["frames"],
            shots=shots,
            detector=data.get("detector", ""),
            audio=data.get("audio", False),
        )

    @classmethod
    def load(cls, path: str | Path) -> ShotList:
        return cls.from_dict(json.loads(Path(path).read_text()))
