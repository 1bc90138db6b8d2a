"""Runs one studio job in its own process: ``python -m moviola.studio.worker --data DIR JOB_ID``.

The web server never decodes or encodes video itself: it starts this process, which claims the
job in the SQLite store, runs it, writes progress there a few times a second, and records how it
ended. It stops early (removing any partial output) when the job's cancel flag is set, on
SIGTERM / SIGINT (the job is then ``interrupted``), or when the server that started it is gone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import moviola.effects  # noqa: F401  (registers the built-in effects and plugins)
from moviola.errors import MoviolaError
from moviola.studio.score import run_score_job
from moviola.studio.store import JobStore
from moviola.studio.warmup import warmed

log = logging.getLogger("moviola")


class _Watch:
    """Sets ``cancel`` when the job is cancelled, the process is signalled or the parent dies."""

    def __init__(self, store: JobStore, job_id: str, parent: int | None) -> None:
        self.store, self.job_id, self.parent = store, job_id, parent
        self.cancel = threading.Event()
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="studio-watch", daemon=True)

    def start(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._signalled)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def trip(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()

    def _signalled(self, signum, frame) -> None:  # noqa: ARG002
        self.trip("interrupted")

    def _loop(self) -> None:
        while not self._stop.wait(0.3):
            try:
                if self.store.cancel_requested(self.job_id):
                    self.trip("cancelled")
            except Exception:  # noqa: BLE001 - a busy database must not kill the job
                log.debug("cancel check failed", exc_info=True)
            if self.parent and not _alive(self.parent):
                self.trip("interrupted")


def _alive(pid: int) -> bool:
    if os.getppid() != pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


class _Progress:
    """pipeline Progress events -> the store, at most every 0.4 s (and the final one)."""

    def __init__(self, store: JobStore, job_id: str, total_hint: int | None = None) -> None:
        self.store, self.job_id = store, job_id
        self.last = 0.0
        self.total_hint = total_hint
        self.latest: dict | None = None

    def __call__(self, p) -> None:
        total = p.total or self.total_hint
        fraction = p.fraction
        if fraction is None and total:
            fraction = min(1.0, p.frames / total)
        eta = p.eta
        if eta is None and total and p.fps and not p.done:
            eta = max(0.0, (total - p.frames) / p.fps)
        self.latest = {
            "frames": p.frames,
            "total": total,
            "fps": round(p.fps, 2),
            "eta": None if eta is None else round(eta, 1),
            "fraction": None if fraction is None else round(fraction, 4),
            "elapsed": round(p.elapsed, 2),
            "done": p.done,
        }
        now = time.monotonic()
        if p.done or now - self.last >= 0.4:
            self.last = now
            self.store.progress(self.job_id, self.latest)


def run_effects_job(job: dict, job_dir: Path, watch: _Watch, store: JobStore) -> dict:
    from moviola.media import probe
    from moviola.pipeline import registry, run

    spec = job["spec"]
    effects = [registry.create(e["name"], **(e.get("params") or {})) for e in spec["effects"]]
    preview = spec.get("preview") or spec.get("range") or {}
    output = job_dir / spec["output_name"]
    total_hint = None
    try:
        info = probe(spec["input_path"])
        if info.video:
            v = info.video[0]
            total_hint = v.frames or v.frames_estimated
    except MoviolaError:
        pass
    progress = _Progress(store, job["id"], total_hint=None if preview else total_hint)
    result = run(
        spec["input_path"],
        output,
        warmed(effects, spec["input_path"], preview.get("start")),
        start=preview.get("start_exact", preview.get("start")),
        end=preview.get("end_exact", preview.get("end")),
        codec=spec.get("codec"),
        crf=spec.get("crf"),
        audio=spec.get("audio", True),
        progress=progress,
        cancel=watch.cancel,
    )
    out_info = probe(result.output)
    return {
        **result.summary(),
        "output": result.output.name,
        "size_bytes": out_info.size_bytes,
        "alpha": bool(result.info.alpha),
        "duration": float(out_info.duration) if out_info.duration is not None else None,
        "timeline": {"start": float(result.timeline.start), "speed": float(result.timeline.speed)},
    }


def _progress(done: float, total: float | None, started: float, *keys: str) -> dict:
    """A job's progress record: ``keys`` name the amount done, the total and the rate
    (frames, total, fps for shots; seconds, total_seconds, speed for transcripts)."""
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    done_key, total_key, rate_key = keys
    return {
        done_key: round(done, 2),
        total_key: round(total, 2) if total else None,
        rate_key: round(rate, 2),
        "eta": round((total - done) / rate, 1) if total and rate else None,
        "fraction": round(min(done / total, 1.0), 4) if total else None,
        "elapsed": round(elapsed, 2),
        "done": False,
    }


def run_shots_job(job: dict, job_dir: Path, watch: _Watch, store: JobStore) -> dict:
    """Shot detection (and descriptions when the analysis package has them)."""
    spec = job["spec"]
    try:
        from moviola.analysis import shots as shots_mod
    except ImportError as exc:
        raise MoviolaError(f"shot detection is not available in this install ({exc})") from None
    started = time.monotonic()
    # Each pass reads the clip from its start: the page names the pass that runs, and its
    # bar starts again with it.
    passes = ["finding the cuts"] + (["describing the shots"] if spec.get("describe") else [])
    current = {"pass": 1}

    def report(frames: int, total: int | None) -> None:
        record = _progress(frames, total, started, "frames", "total", "fps")
        n = current["pass"]
        record.update({"pass": n, "passes": len(passes), "pass_text": passes[n - 1]})
        store.progress(job["id"], record)

    progress = _cancellable(lambda p: report(p.frames, p.total), watch.cancel)
    shot_list = shots_mod.detect_shots(
        spec["input_path"], method=spec.get("method") or "transnetv2", progress=progress
    )
    if watch.cancel.is_set():
        raise MoviolaError("cancelled")
    described = False
    if spec.get("describe"):
        from moviola.analysis.describe import describe_shots

        current["pass"] = 2
        started = time.monotonic()
        shot_list = describe_shots(spec["input_path"], shot_list, progress=progress)
        described = True
        _attach_dialogue(spec["input_path"], shot_list, watch.cancel)
        _add_to_library(job_dir.parent.parent / "library.sqlite", shot_list, spec["input_path"])
    (job_dir / "shots.json").write_text(shot_list.to_json())
    return {
        "output": "shots.json",
        "shots": len(shot_list.shots),
        "described": described,
        "detector": shot_list.detector,
        "frames": shot_list.frames,
        "seconds": round(time.monotonic() - started, 3),
    }


def _attach_dialogue(path: str, shot_list, cancel: threading.Event) -> None:
    """What is said, per shot (searchable in the library); a failure only loses the dialogue."""
    try:
        from moviola.analysis.dialogue import attach_dialogue

        attach_dialogue(path, shot_list, progress=_cancellable(lambda *_: None, cancel))
    except ImportError:
        return
    except MoviolaError as exc:
        log.warning("no dialogue for the shots: %s", exc)


def run_transcript_job(job: dict, job_dir: Path, watch: _Watch, store: JobStore) -> dict:
    """Speech to text: transcript.json (segments, words, speakers) and transcript.srt."""
    spec = job["spec"]
    try:
        from moviola.speech.transcribe import Transcriber
    except ImportError as exc:
        raise MoviolaError(f"transcription is not available in this install ({exc})") from None
    started = time.monotonic()

    def report(done: float, total: float | None) -> None:
        store.progress(
            job["id"], _progress(done, total, started, "seconds", "total_seconds", "speed")
        )

    transcriber = Transcriber(spec["model"], language=spec.get("language"))
    transcript = transcriber.transcribe(
        spec["input_path"],
        speakers=spec.get("speakers"),
        progress=_cancellable(report, watch.cancel),
    )
    (job_dir / "transcript.json").write_text(transcript.format(".json"))
    (job_dir / "transcript.srt").write_text(transcript.format(".srt"))
    return {
        "output": "transcript.json",
        "segments": len(transcript.segments),
        "words": len(transcript.words),
        "language": transcript.language,
        "speakers": transcript.speakers,
        "seconds": round(time.monotonic() - started, 3),
    }


def _add_to_library(db: Path, shot_list, source: str) -> None:
    """Described shots go into the studio's own search library (when the module exists)."""
    try:
        from moviola.analysis.library import Library
    except ImportError:
        return
    try:
        library = Library(db)
        try:
            library.add(shot_list, source)
        finally:
            library.close()
    except MoviolaError as exc:
        log.warning("not added to the search library: %s", exc)


class _Stopped(Exception):
    """Raised from a progress callback to stop an analysis that takes no cancel event."""


def _cancellable(report, cancel: threading.Event):
    """A progress callback that passes its arguments to ``report`` and raises once the job is
    cancelled, which stops the analysis between frames (or windows of audio)."""

    def callback(*args) -> None:
        if cancel.is_set():
            raise _Stopped("cancelled")
        report(*args)

    return callback


def run_compare_job(job: dict, job_dir: Path, watch: _Watch, store: JobStore) -> dict:
    """The before/after comparison of a finished job as a video (moviola.studio.compare)."""
    from moviola.studio.compare import export_comparison

    started = time.monotonic()

    def report(frames: int, total: int | None) -> None:
        now = time.monotonic()
        if now - report.last >= 0.4 or frames == total:  # type: ignore[attr-defined]
            report.last = now  # type: ignore[attr-defined]
            store.progress(job["id"], _progress(frames, total, started, "frames", "total", "fps"))

    report.last = 0.0  # type: ignore[attr-defined]
    spec = job["spec"]
    result = export_comparison(spec, job_dir / spec["output_name"], report, watch.cancel)
    size = (job_dir / result["output"]).stat().st_size
    return {**result, "size_bytes": size, "seconds": round(time.monotonic() - started, 3)}


KINDS = {
    "effects": run_effects_job,
    "shots": run_shots_job,
    "transcript": run_transcript_job,
    "score": run_score_job,
    "compare": run_compare_job,
}


def _ending(exc: BaseException, watch: _Watch) -> tuple[str, str]:
    """(status, message) of a job that raised ``exc``."""
    stopped = "the studio stopped while this job ran"
    if watch.reason is not None:
        return watch.reason, "cancelled by the user" if watch.reason == "cancelled" else stopped
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", stopped
    if isinstance(exc, MoviolaError):
        return "failed", str(exc)
    traceback.print_exc()
    return "failed", f"internal error: {type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moviola.studio.worker")
    parser.add_argument("--data", required=True, help="the studio's data folder")
    parser.add_argument("--parent", type=int, help="stop when this process is gone")
    parser.add_argument("job_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="moviola worker: %(message)s")

    data = Path(args.data)
    store = JobStore(data / "studio.db")
    job = store.get(args.job_id) if store.claim(args.job_id, os.getpid()) else None
    if job is None:
        print(f"job {args.job_id} is not queued; nothing to do", file=sys.stderr)
        return 0
    job_dir = data / "jobs" / job["id"]
    job_dir.mkdir(parents=True, exist_ok=True)
    watch = _Watch(store, job["id"], args.parent)
    watch.start()
    try:
        result = KINDS[job["kind"]](job, job_dir, watch, store)
    except BaseException as exc:  # noqa: BLE001 - every ending is recorded
        watch.stop()
        status, message = _ending(exc, watch)
        store.finish(job["id"], status, error=message)
        return 0 if status != "failed" else 1
    watch.stop()
    if watch.reason is not None and job["kind"] != "effects":
        store.finish(job["id"], watch.reason, error="stopped")
        return 0
    now = store.get(job["id"])
    final = (now["progress"] if now else None) or {}
    final.update({"done": True, "fraction": 1.0, "eta": None})
    store.finish(job["id"], "done", result=json.loads(json.dumps(result)), progress=final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
