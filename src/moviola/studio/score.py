"""Music for a clip from the studio (``moviola score``): what the page offers (moods, instruments,
whether this install can play a soundfont), the spec of a score job from the page's request, and
the job itself as the worker runs it.

One job kind, ``score``, in two forms: *listen* writes the music alone as an audio file (already
fitted to the clip's cuts) for the page to play before anything is rendered; *render* writes the
clip with the music, mixed under its sound or replacing it, and the MIDI file when asked. The
job's progress is a ``phase`` (composing, rendering, mixing) read from what the scorer has
written so far in the job's folder: ``score_video`` reports nothing itself and looks at no cancel
flag, so a cancelled score job is ended by the job runner (moviola.studio.jobs.KILL_AFTER).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.studio.jobs import clear_folder
from moviola.studio.paths import sanitize_filename

LISTEN_FORMATS = ("m4a", "ogg", "wav")  # the page asks for the first its browser plays
VIDEO_FORMATS = ("mp4", "mov", "mkv", "webm")  # a clip in another container is scored to .mp4
TEMPO_RANGE = (40, 220)
MAX_SEED = 2**31 - 1
_MISSING = {
    "available": False,
    "moods": [],
    "styles": [],
    "listen_formats": list(LISTEN_FORMATS),
    "tempo_range": list(TEMPO_RANGE),
}
PHASES = {
    "composing": "composing",
    "rendering": "rendering the instruments",
    "mixing": "mixing",
}


def options() -> dict:
    """What the page's music panel offers: moods and instrument sets with their descriptions,
    and whether this install can render music at all (``available``, ``message``)."""
    try:
        from moviola.generate.score import MOODS, STYLES
    except ImportError as exc:
        return {**_MISSING, "message": f"music is not part of this install ({exc})"}
    return {
        **availability(),
        "moods": [
            {
                "name": m.name,
                "description": m.description,
                "style": m.style,
                "tempo": list(m.tempo),
            }
            for m in MOODS.values()
        ],
        "styles": [{"name": s.name, "description": s.description} for s in STYLES.values()],
        "listen_formats": list(LISTEN_FORMATS),
        "tempo_range": list(TEMPO_RANGE),
    }


def availability() -> dict:
    """Whether the soundfont and FluidSynth are here; ``message`` says what to install when not."""
    try:
        from moviola.generate.score.render import load_fluidsynth, soundfont

        soundfont()
        load_fluidsynth()
    except MoviolaError as exc:
        return {"available": False, "message": str(exc)}
    return {"available": True, "message": ""}


def _choice(data: dict, key: str, names, what: str, default: str | None) -> str | None:
    value = data.get(key)
    if value in (None, ""):
        return default
    if not isinstance(value, str) or value not in names:
        shown = value if isinstance(value, str) else str(value)
        raise MoviolaError(f"unknown {what} '{shown[:40]}': choose one of {', '.join(names)}")
    return value


def _tempo(value: Any) -> str | float:
    if value in (None, "", "auto"):
        return "auto"
    lo, hi = TEMPO_RANGE
    message = f"the tempo must be automatic or a number of beats a minute from {lo} to {hi}"
    if isinstance(value, bool):
        raise MoviolaError(message)
    try:
        bpm = float(value)
    except (TypeError, ValueError):
        raise MoviolaError(message) from None
    if not lo <= bpm <= hi:
        raise MoviolaError(message)
    return round(bpm, 2)


def _seed(value: Any) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MoviolaError("the variation must be a whole number")
    try:
        seed = int(value)
    except (TypeError, ValueError):
        raise MoviolaError("the variation must be a whole number") from None
    if seed != float(value) or not 0 <= seed <= MAX_SEED:
        raise MoviolaError(f"the variation must be a whole number from 0 to {MAX_SEED}")
    return seed


def score_spec(data: dict, input_path: Path) -> dict:
    """The spec of a score job from the page's request: ``mood``, ``style`` (none: the mood's
    own), ``tempo`` ("auto" or beats a minute), ``seed``, ``sound`` ("mix" under the clip's own
    sound or "replace" it), ``midi`` (also keep the MIDI file), ``listen`` (the music alone, to
    hear before rendering) and, for listening, ``listen_format`` (one of LISTEN_FORMATS)."""
    from moviola.generate.score import MOODS, STYLES

    mood = _choice(data, "mood", list(MOODS), "mood", "calm")
    style = _choice(data, "style", list(STYLES), "instrument set", None)
    sound = _choice(data, "sound", ["mix", "replace"], "choice for the clip's sound", "mix")
    listen = bool(data.get("listen"))
    stem = sanitize_filename(input_path.stem, 60).replace(".", "_")
    if listen:
        fmt = _choice(data, "listen_format", LISTEN_FORMATS, "audio format", LISTEN_FORMATS[0])
        output_name = f"{stem}-music-{mood}.{fmt}"
    else:
        ext = input_path.suffix.lower().lstrip(".")
        output_name = f"{stem}-scored-{mood}.{ext if ext in VIDEO_FORMATS else 'mp4'}"
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "mood": mood,
        "style": style,
        "tempo": _tempo(data.get("tempo")),
        "seed": _seed(data.get("seed")),
        "sound": sound,
        "midi": bool(data.get("midi")) and not listen,
        "listen": listen,
        "output_name": sanitize_filename(output_name),
    }


def score_title(spec: dict, input_path: Path) -> str:
    what = "music to hear" if spec["listen"] else "scored"
    return f"{what}: {input_path.name} ({spec['mood']}, variation {spec['seed']})"


def phase_of(job_dir: Path, output_name: str) -> str:
    """How far the scorer has got, from the files it has written in ``job_dir`` (see
    moviola.generate.score: a hidden ``.moviola-score-*`` folder of raw stems, then the mix,
    then the output's temporary file)."""
    stem = Path(output_name).stem
    if any(job_dir.glob(f".{stem}.*.part*")):
        return "mixing"
    scratch = list(job_dir.glob(".moviola-score-*"))
    if not scratch:
        return "composing"
    if any((folder / "mix.flac").exists() for folder in scratch):
        return "mixing"
    return "rendering"


class _Phases:
    """Writes the job's phase to the store a few times a second while the scorer runs."""

    def __init__(self, store, job_id: str, job_dir: Path, output_name: str) -> None:
        self.store, self.job_id, self.job_dir, self.output_name = (
            store,
            job_id,
            job_dir,
            output_name,
        )
        self.started = time.monotonic()
        self.phase = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="studio-score", daemon=True)

    def __enter__(self) -> _Phases:
        self._report("composing")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)

    def _report(self, phase: str) -> None:
        self.phase = phase
        self.store.progress(
            self.job_id,
            {
                "phase": phase,
                "phase_text": PHASES[phase],
                "elapsed": round(time.monotonic() - self.started, 2),
                "fraction": None,
                "eta": None,
                "done": False,
            },
        )

    def _loop(self) -> None:
        while not self._stop.wait(0.3):
            try:
                phase = phase_of(self.job_dir, self.output_name)
                if phase != self.phase:
                    self._report(phase)
            except Exception:  # noqa: BLE001 - a busy database must not stop the music
                continue


def run_score_job(job: dict, job_dir: Path, watch: Any, store: Any) -> dict:
    """Score the clip: the music alone (listen) or the clip with its music (render)."""
    from moviola.generate.score import score_video
    from moviola.media import probe

    spec = job["spec"]
    output = job_dir / spec["output_name"]
    midi = job_dir / f"{Path(spec['output_name']).stem}.mid" if spec.get("midi") else None
    try:
        with _Phases(store, job["id"], job_dir, spec["output_name"]):
            result = score_video(
                spec["input_path"],
                output,
                mood=spec["mood"],
                style=spec.get("style"),
                tempo=spec.get("tempo") or "auto",
                seed=int(spec.get("seed") or 0),
                midi=midi,
                replace_audio=spec.get("sound") == "replace",
            )
    except MoviolaError as exc:  # the page names the clip by its media id, not its server path
        raise MoviolaError(str(exc).replace(spec["input_path"], spec["input"])) from None
    if watch.cancel.is_set():  # cancelled as it finished: nothing is kept
        clear_folder(job_dir)
        raise MoviolaError("cancelled")
    info = probe(result.output)
    return {
        "output": result.output.name,
        "listen": bool(spec.get("listen")),
        "midi": result.midi.name if result.midi else None,
        "duration": float(info.duration) if info.duration is not None else result.seconds,
        "size_bytes": info.size_bytes,
        "mood": result.mood,
        "style": result.style,
        "key": result.key,
        "sections": result.sections,
        "cuts": result.cuts,
        "on_beat": round(result.on_beat, 4),
        "on_bar": round(result.on_bar, 4),
        "hits": result.hits,
        "notes": result.notes,
        "loudness": round(result.loudness, 2),
        "peak_db": round(result.peak_db, 2),
        "ducked": result.ducked,
        "sound": result.audio,
        "fallback": result.fallback,
        "speed": round(result.speed, 2),
        "seconds": round(result.render_seconds, 3),
    }
