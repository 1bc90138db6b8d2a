"""A video played behind the frames: the picture showing at a time, looped, sized to cover.

Used where a video is given as a background (matte's ``background=clip.mp4``): it is read as a
stream (one decoded frame ahead), never loaded whole, and restarted at its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, cover, to_float
from moviola.media.reader import VideoReader


class BackgroundVideo:
    """Streams a video as a background: ``at(t)`` is the frame showing at time ``t`` of the
    output (the video looped), float32 RGB resized to cover ``size`` (w, h). A video of one
    frame is a still, read once."""

    def __init__(self, path: Path, size: tuple[int, int], what: str = "background video") -> None:
        self.path = path
        self.size = size
        self._reader: VideoReader | None = None
        self._frames: Iterator[Frame] = iter(())
        self._offset = Fraction(0)  # where the current loop starts on the output timeline
        self._restart()
        if self._current is None:
            raise MoviolaError(f"the {what} has no frames: {path}")
        self._still = self._upcoming is None  # one frame: a still, never re-read
        self._image: np.ndarray | None = None

    def _restart(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader = VideoReader(self.path, alpha=False)
        self._frames = iter(self._reader)
        self._current = self._next()
        self._upcoming = self._next()

    def _next(self) -> Frame | None:
        return next(self._frames, None)

    def at(self, time: Fraction) -> np.ndarray:
        changed = self._image is None
        while not self._still:
            current = self._current
            assert current is not None  # a video with frames; each loop starts at its first
            if self._upcoming is not None:
                if self._upcoming.time > time - self._offset:
                    break
                self._current, self._upcoming = self._upcoming, self._next()
                changed = True
            elif time - self._offset < current.end:
                break
            else:  # past the last frame: loop
                self._offset += current.end
                self._restart()
                changed = True
        if changed or self._image is None:
            assert self._current is not None
            self._image = cover(to_float(self._current.image[..., :3]), self.size)
        return self._image

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
