"""The player's timeline for one clip: its exact frame rate and length, its shot boundaries and,
where the clip was transcribed in the studio, what is said when.

Shots come from the project's shot detector (moviola.analysis.shots, run as a studio job: the
server never decodes video itself); the newest finished shot list of a clip is kept in
``DATA/timeline/`` keyed by the clip's id, size and modification time, so the timeline needs no
job once a clip's shots are known, even after the job that found them is deleted. The
transcript is the newest finished transcription job of the clip (``transcript.json``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.media.atomic import write_text
from moviola.studio.state import StudioState

log = logging.getLogger("moviola")
SHOTS_METHOD = "fast"  # the classical detector: no model to fetch, quick on a CPU
PENDING = ("queued", "running")


def _cache_path(state: StudioState, media_id: str, path: Path) -> Path:
    stat = path.stat()
    key = f"{media_id}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    return state.data_dir / "timeline" / f"{hashlib.sha256(key).hexdigest()[:24]}.json"


def _jobs_of(state: StudioState, kind: str, media_id: str) -> list[dict]:
    """The jobs of ``kind`` on ``media_id``, newest first."""
    return [
        j
        for j in state.store.list(limit=1000)
        if j["kind"] == kind and isinstance(j["spec"], dict) and j["spec"].get("input") == media_id
    ]


def _boundaries(shot_list: dict) -> list[dict]:
    """Each shot's start (frame, seconds) and the transition into it, first shot included."""
    return [
        {
            "frame": int(s["start_frame"]),
            "seconds": round(float(s["start_seconds"]), 6),
            "end_seconds": round(float(s["end_seconds"]), 6),
            "transition": s.get("transition") or "cut",
        }
        for s in shot_list.get("shots") or []
    ]


def shots(state: StudioState, media_id: str, path: Path) -> list[dict] | None:
    """The clip's shots from the cache, else from its newest finished shot list (then cached);
    None when no shot list of this version of the clip exists."""
    cache = _cache_path(state, media_id, path)
    if cache.is_file():
        try:
            return json.loads(cache.read_text())["shots"]
        except (ValueError, KeyError, OSError):
            log.warning("studio: unreadable timeline cache %s; looked up again", cache.name)
    mtime = path.stat().st_mtime
    for job in _jobs_of(state, "shots", media_id):
        if job["status"] != "done" or (job["finished"] or 0) < mtime:
            continue
        found = state.job_dir(job["id"]) / "shots.json"
        try:
            listed = _boundaries(json.loads(found.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_text(cache, json.dumps({"input": media_id, "job": job["id"], "shots": listed}))
        return listed
    return None


def transcript(state: StudioState, media_id: str) -> dict | None:
    """The newest finished transcript of the clip: ``{"job", "language", "segments": [{start,
    end, text, speaker}]}``; None when the clip was never transcribed here."""
    from moviola.speech.transcript import load_transcript

    for job in _jobs_of(state, "transcript", media_id):
        if job["status"] != "done":
            continue
        try:
            found = load_transcript(state.job_dir(job["id"]) / "transcript.json")
        except (MoviolaError, OSError, ValueError, KeyError, TypeError):
            continue
        return {
            "job": job["id"],
            "language": found.language,
            "segments": [
                {
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text.strip(),
                    "speaker": s.speaker,
                }
                for s in found.segments
            ],
        }
    return None


def clip_timeline(state: StudioState, media_id: str) -> dict[str, Any]:
    """What the player's timeline shows for a clip: ``rate`` (exact, ``"30000/1001"``),
    ``frames``, ``duration`` (seconds), ``shots`` (None: not detected yet), ``shots_job`` (a
    detection under way), ``transcript`` (None: never transcribed here)."""
    from moviola.media import probe

    path = state.roots.resolve(media_id)
    info = probe(path)
    if not info.video:
        raise MoviolaError(f"{path.name} has no picture: the player shows clips and photos")
    video = info.video[0]
    rate = Fraction(video.rate) if video.rate else Fraction(25)
    duration = float(video.duration or info.duration or 0)
    frames = video.frames or video.frames_estimated or max(1, round(duration * rate))
    pending = [j["id"] for j in _jobs_of(state, "shots", media_id) if j["status"] in PENDING]
    return {
        "id": media_id,
        "rate": f"{rate.numerator}/{rate.denominator}",
        "frames": int(frames),
        "duration": duration,
        "still": frames <= 1,
        "audio": bool(info.audio),
        "shots": shots(state, media_id, path),
        "shots_job": pending[0] if pending else None,
        "transcript": transcript(state, media_id),
    }


def find_shots(state: StudioState, media_id: str) -> dict:
    """The job finding the clip's shots for the timeline: one already under way, else a new
    one with the classical detector."""
    from moviola.studio import specs

    path = state.roots.resolve(media_id)
    for job in _jobs_of(state, "shots", media_id):
        if job["status"] in PENDING:
            return job
    spec = specs.shots_spec({"input": media_id, "method": SHOTS_METHOD}, path, (SHOTS_METHOD,))
    job = state.store.create("shots", spec, title=f"shots of {path.name} (timeline)")
    state.runner.wake()
    return job
