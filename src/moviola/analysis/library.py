"""The footage library: shot descriptions of many files in one SQLite file, searched by meaning.

``moviola index FOLDER`` detects the shots of every video under the folder, describes them
(:mod:`moviola.analysis.describe`), embeds each shot's text summary with all-MiniLM-L6-v2
(:mod:`moviola.analysis.embed`) and stores it all here. A file whose size and modification time
have not changed since it was indexed is skipped; a changed file has its rows replaced; files
that disappeared from an indexed folder are dropped.

``moviola search "close-up of a face at night"`` embeds the query and ranks the shots by cosine
similarity with their summaries, after structured filters (scale, camera motion, duration,
people, faces, tags) have narrowed them down. What is said counts too: each shot's dialogue
(:mod:`moviola.analysis.dialogue`, Whisper at index time) is searched for the query's words
(a phrase found word for word scores 1.0, above any summary similarity, with the time it is
said) and by meaning (the dialogue's own embedding); a shot scores the best of the three.

Tables: ``files`` (path, mtime, size, probe JSON, rate, geometry, frame count, detector) and
``shots`` (file, index, frames, times, timecodes, scale, camera motion, counts, tags, the full
description JSON, the summary, and the 384 float32 embedding as a BLOB).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moviola.analysis.model import ShotList, timecode
from moviola.errors import MoviolaError
from moviola.media.formats import VIDEO_EXTENSIONS as MEDIA_VIDEO_EXTENSIONS

SCHEMA_VERSION = 2  # 2: what is said (dialogue text and its embedding) per shot
# What an index takes as footage (an animated GIF is not footage to index).
VIDEO_EXTENSIONS = MEDIA_VIDEO_EXTENSIONS - {".gif"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    mtime REAL NOT NULL,
    size INTEGER NOT NULL,
    probe TEXT NOT NULL,
    rate TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    detector TEXT NOT NULL,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS shots (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER NOT NULL,
    start_seconds REAL NOT NULL,
    end_seconds REAL NOT NULL,
    duration REAL NOT NULL,
    start_timecode TEXT NOT NULL,
    end_timecode TEXT NOT NULL,
    scale TEXT,
    camera_motion TEXT,
    people INTEGER,
    faces INTEGER,
    tags TEXT NOT NULL,
    description TEXT NOT NULL,
    summary TEXT NOT NULL,
    embedding BLOB NOT NULL,
    dialogue TEXT NOT NULL DEFAULT '',
    dialogue_embedding BLOB
);
CREATE INDEX IF NOT EXISTS shots_file ON shots(file_id);
"""
_SHOTS_OF_FILE = (
    "SELECT s.id, s.start_frame, s.end_frame, s.description FROM shots s "
    "JOIN files f ON f.id=s.file_id WHERE f.path=?"
)


# Words in a query that name a described facet: a shot with that facet gets HINT_BONUS added to
# its cosine similarity (an adjacent scale half of it). Checked in order; the first match of a
# facet wins, so "extreme close-up" is not also read as "close-up".
HINT_BONUS = 0.1
_SCALE_ORDER = ("extreme close-up", "close-up", "medium", "wide", "extreme wide")
_HINTS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (facet, value, re.compile(pattern))
    for facet, value, pattern in (
        ("scale", "extreme close-up", r"\b(extreme close[- ]?ups?|ecu|macro)\b"),
        ("scale", "close-up", r"\b(close[- ]?ups?|closeups?|cu|headshots?|portraits?)\b"),
        ("scale", "extreme wide", r"\b(extreme(ly)? wide|establishing|aerial|vista)\b"),
        ("scale", "wide", r"\b(wide|long shot|full shot|full body)\b"),
        ("scale", "medium", r"\b(medium|mid[- ]shot|waist)\b"),
        ("motion", "pan", r"\bpan(s|ning|ned)?\b"),
        ("motion", "tilt", r"\btilt(s|ing|ed)?\b"),
        ("motion", "zoom", r"\bzoom(s|ing|ed)?\b"),
        ("motion", "handheld", r"\b(handheld|hand-held|shaky|shaking|wobbly)\b"),
        ("motion", "static", r"\b(static|locked[- ]off|tripod|still camera)\b"),
        ("key", "low-key", r"\b(night|dark|low[- ]key|dim|moody|shadowy)\b"),
        ("key", "high-key", r"\b(bright|high[- ]key|sunny|daylight)\b"),
        ("temperature", "warm", r"\b(warm|golden|candle ?lit|candles?|sunset|tungsten)\b"),
        ("temperature", "cool", r"\b(cool|cold|bluish|moonlit|moonlight)\b"),
        ("who", "face", r"\b(faces?|portraits?|headshots?)\b"),
        ("who", "crowd", r"\b(crowds?|several people|many people|groups?)\b"),
        ("who", "people", r"\b(people|persons?|man|men|woman|women|pedestrians?|someone)\b"),
        ("who", "nobody", r"\b(empty|nobody|no people|no one)\b"),
    )
)


def query_hints(query: str) -> dict[str, str]:
    """The facets a query names, e.g. {"scale": "close-up", "key": "low-key"}."""
    text = query.lower()
    found: dict[str, str] = {}
    for facet, value, pattern in _HINTS:
        if facet not in found and pattern.search(text):
            found[facet] = value
    return found


def hint_bonus(hints: dict[str, str], desc: dict[str, Any], words: set[str]) -> float:
    """What a shot's description earns for matching the query's hints and naming its tags."""
    bonus = 0.0
    scale = desc.get("scale")
    if "scale" in hints and scale in _SCALE_ORDER:
        gap = abs(_SCALE_ORDER.index(scale) - _SCALE_ORDER.index(hints["scale"]))
        bonus += HINT_BONUS if gap == 0 else HINT_BONUS / 2 if gap == 1 else 0.0
    if hints.get("motion") and hints["motion"] == desc.get("camera_motion"):
        bonus += HINT_BONUS
    light = desc.get("lighting") or {}
    if hints.get("key") and hints["key"] == light.get("key"):
        bonus += HINT_BONUS
    if hints.get("temperature") and hints["temperature"] == light.get("color_temperature"):
        bonus += HINT_BONUS
    people, faces = desc.get("people") or 0, desc.get("faces") or 0
    who = hints.get("who")
    if (
        who == "face"
        and faces > 0
        or who == "crowd"
        and people >= 3
        or who == "people"
        and (people > 0 or faces > 0)
        or who == "nobody"
        and people == 0
        and faces == 0
    ):
        bonus += HINT_BONUS
    tags = {t.lower() for t in desc.get("tags") or ()} - {"person"}
    bonus += HINT_BONUS * len(tags & words)
    return bonus


def default_db() -> Path:
    """``$MOVIOLA_LIBRARY`` or ``~/.moviola/library.sqlite``."""
    env = os.environ.get("MOVIOLA_LIBRARY")
    return Path(os.path.expanduser(env)) if env else Path.home() / ".moviola" / "library.sqlite"


@dataclass
class Hit:
    """One search result."""

    path: str
    index: int
    start_frame: int
    end_frame: int
    start_timecode: str
    end_timecode: str
    start_seconds: float
    end_seconds: float
    score: float  # similarity plus the bonus for facets and tags the query names
    summary: str
    description: dict[str, Any] = field(default_factory=dict)
    similarity: float = 0.0  # cosine similarity of the query and the shot's summary
    said: str | None = None  # the words of the shot that matched the query
    said_at: float | None = None  # when they are said (seconds in the file)

    @property
    def duration(self) -> float:
        return self.end_seconds - self.start_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "shot": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_timecode": self.start_timecode,
            "end_timecode": self.end_timecode,
            "start_seconds": round(self.start_seconds, 4),
            "end_seconds": round(self.end_seconds, 4),
            "duration": round(self.duration, 4),
            "score": round(self.score, 4),
            "similarity": round(self.similarity, 4),
            "summary": self.summary,
            "said": self.said,
            "said_at": None if self.said_at is None else round(self.said_at, 3),
            "description": self.description,
        }


@dataclass
class Filters:
    """Structured search filters; None means no condition."""

    scale: Sequence[str] | None = None
    motion: Sequence[str] | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    people: str | None = None  # "3", "2+" or "1-4"
    faces: str | None = None
    tags: Sequence[str] | None = None  # every tag must be present
    path: str | None = None  # substring of the file path


def _count_range(text: str, what: str) -> tuple[int, int | None]:
    text = str(text).strip()
    try:
        if text.endswith("+"):
            return int(text[:-1]), None
        if "-" in text:
            lo, hi = text.split("-", 1)
            return int(lo), int(hi)
        n = int(text)
        return n, n
    except ValueError:
        raise MoviolaError(f"--{what} takes a count: N, N+ or N-M (got {text!r})") from None


class Library:
    """A shot library in one SQLite file (created when missing)."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.path = Path(os.path.expanduser(db)) if db is not None else default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path))
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.executescript(_SCHEMA)
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as e:
            raise MoviolaError(f"not a moviola library: {self.path} ({e})") from None
        if row is None:
            with self.conn:
                self.conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                self.conn.execute("INSERT INTO meta VALUES ('embedding', 'all-minilm-l6-v2')")
        elif int(row[0]) == 1:
            self._upgrade_from_1()
        elif int(row[0]) != SCHEMA_VERSION:
            raise MoviolaError(
                f"library {self.path} has schema {row[0]}; this moviola reads "
                f"{SCHEMA_VERSION}: index into a new --db"
            )

    def _upgrade_from_1(self) -> None:
        """Schema 1 had no dialogue: add its columns (empty until a file is re-indexed)."""
        with self.conn:
            self.conn.execute("ALTER TABLE shots ADD COLUMN dialogue TEXT NOT NULL DEFAULT ''")
            self.conn.execute("ALTER TABLE shots ADD COLUMN dialogue_embedding BLOB")
            self.conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------

    def is_current(self, path: str | Path) -> bool:
        """Whether ``path`` is indexed with its present size and modification time."""
        p = Path(path).resolve()
        st = p.stat()
        row = self.conn.execute("SELECT mtime, size FROM files WHERE path=?", (str(p),)).fetchone()
        return row is not None and row[0] == st.st_mtime and row[1] == st.st_size

    def add(
        self,
        shots: ShotList,
        path: str | Path | None = None,
        probe_info: dict[str, Any] | None = None,
    ) -> int:
        """Store described ``shots`` of a file (replacing its earlier rows); embeds the shots'
        summaries. Returns the number of shots stored."""
        from moviola.analysis.embed import embed

        p = Path(path or shots.source).resolve()
        st = p.stat()
        summaries = [s.extra.get("summary") or "" for s in shots.shots]
        vectors = embed(summaries) if summaries else np.zeros((0, 384), np.float32)
        dialogues = [str(s.extra.get("dialogue") or "") for s in shots.shots]
        spoken = [d for d in dialogues if d]
        said_vectors = iter(embed(spoken) if spoken else [])
        rate = shots.rate
        with self.conn:
            self.conn.execute("DELETE FROM files WHERE path=?", (str(p),))
            cur = self.conn.execute(
                "INSERT INTO files (path, mtime, size, probe, rate, width, height, frames, "
                "detector, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    str(p),
                    st.st_mtime,
                    st.st_size,
                    json.dumps(probe_info or {}),
                    f"{rate.numerator}/{rate.denominator}",
                    shots.width,
                    shots.height,
                    shots.frames,
                    shots.detector,
                    time.time(),
                ),
            )
            file_id = cur.lastrowid
            rows = []
            for shot, summary, vec, dialogue in zip(
                shots.shots, summaries, vectors, dialogues, strict=True
            ):
                e = shot.extra
                tags = e.get("tags") or []
                rows.append(
                    (
                        file_id,
                        shot.index,
                        shot.start_frame,
                        shot.end_frame,
                        float(shot.start),
                        float(shot.end),
                        float(shot.duration),
                        timecode(shot.start_frame, rate),
                        timecode(shot.end_frame, rate),
                        e.get("scale"),
                        e.get("camera_motion"),
                        e.get("people"),
                        e.get("faces"),
                        "," + ",".join(t.lower() for t in tags) + ",",
                        json.dumps(e),
                        summary,
                        np.asarray(vec, "<f4").tobytes(),
                        dialogue,
                        np.asarray(next(said_vectors), "<f4").tobytes() if dialogue else None,
                    )
                )
            self.conn.executemany(
                "INSERT INTO shots (file_id, idx, start_frame, end_frame, start_seconds, "
                "end_seconds, duration, start_timecode, end_timecode, scale, camera_motion, "
                "people, faces, tags, description, summary, embedding, dialogue, "
                "dialogue_embedding) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def remove(self, path: str | Path) -> bool:
        with self.conn:
            cur = self.conn.execute("DELETE FROM files WHERE path=?", (str(Path(path).resolve()),))
        return cur.rowcount > 0

    def files(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT f.path, f.size, f.mtime, f.frames, f.detector, COUNT(s.id) FROM files f "
            "LEFT JOIN shots s ON s.file_id=f.id GROUP BY f.id ORDER BY f.path"
        ).fetchall()
        return [
            {
                "path": r[0],
                "size": r[1],
                "mtime": r[2],
                "frames": r[3],
                "detector": r[4],
                "shots": r[5],
            }
            for r in rows
        ]

    def index_file(
        self,
        path: str | Path,
        *,
        fast: bool = False,
        force: bool = False,
        thumbnails: Path | None = None,
        progress: Callable[[Any], None] | None = None,
        speech: bool = True,
    ) -> tuple[str, int]:
        """Index one video: ("skipped", 0) when unchanged, else ("indexed" or "updated", shots);
        an unchanged file whose shots lack CLIP embeddings that can now be made gets them without
        being described again: ("updated", shots that got one)."""
        from moviola.analysis.describe import describe_shots
        from moviola.analysis.shots import detect_shots
        from moviola.media.probe import probe

        p = Path(path).resolve()
        known = self.conn.execute("SELECT 1 FROM files WHERE path=?", (str(p),)).fetchone()
        if not force and known and self.is_current(p):
            from moviola.analysis.clip import fill_looks  # CLIP fetched since it was indexed

            rows = self.conn.execute(_SHOTS_OF_FILE, (str(p),)).fetchall()
            updates, looked = fill_looks(p, rows)
            with self.conn:
                self.conn.executemany("UPDATE shots SET description=? WHERE id=?", updates)
            return ("updated", looked) if looked else ("skipped", 0)
        shots = detect_shots(p, method="fast" if fast else "transnetv2", progress=progress)
        describe_shots(p, shots, thumbnails=thumbnails, progress=progress)
        if speech:
            from moviola.analysis.dialogue import attach_dialogue

            attach_dialogue(p, shots)
        n = self.add(shots, p, probe(p).to_dict())
        return ("updated" if known else "indexed"), n

    def index_folder(
        self,
        folder: str | Path,
        *,
        fast: bool = False,
        force: bool = False,
        thumbnails: Path | None = None,
        on_file: Callable[[Path, str, int], None] | None = None,
        on_error: Callable[[Path, MoviolaError], None] | None = None,
        progress: Callable[[Any], None] | None = None,
        speech: bool = True,
    ) -> dict[str, int]:
        """Index every video under ``folder`` (recursively). Returns counts per status."""
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            raise MoviolaError(f"not a folder: {folder}")
        root = root.resolve()
        videos = sorted(
            p
            for p in root.rglob("*")
            if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file() and not p.name.startswith(".")
        )
        counts = {"indexed": 0, "updated": 0, "skipped": 0, "failed": 0, "removed": 0}
        for video in videos:
            try:
                status, n = self.index_file(
                    video,
                    fast=fast,
                    force=force,
                    thumbnails=thumbnails,
                    progress=progress,
                    speech=speech,
                )
            except MoviolaError as e:
                counts["failed"] += 1
                if on_error is not None:
                    on_error(video, e)
                continue
            counts[status] += 1
            if on_file is not None:
                on_file(video, status, n)
        present = {str(v) for v in videos}
        prefix = str(root).rstrip(os.sep) + os.sep
        for (known,) in self.conn.execute("SELECT path FROM files").fetchall():
            if known.startswith(prefix) and known not in present and not Path(known).exists():
                self.remove(known)
                counts["removed"] += 1
        return counts

    # --- searching -----------------------------------------------------------------------------

    def _where(self, f: Filters) -> tuple[str, list[Any]]:
        cond: list[str] = []
        args: list[Any] = []
        if f.scale:
            cond.append(f"s.scale IN ({','.join('?' * len(f.scale))})")
            args += list(f.scale)
        if f.motion:
            cond.append(f"s.camera_motion IN ({','.join('?' * len(f.motion))})")
            args += list(f.motion)
        if f.min_duration is not None:
            cond.append("s.duration >= ?")
            args.append(f.min_duration)
        if f.max_duration is not None:
            cond.append("s.duration <= ?")
            args.append(f.max_duration)
        for column, value in (("people", f.people), ("faces", f.faces)):
            if value is not None:
                lo, hi = _count_range(value, column)
                cond.append(f"s.{column} >= ?")
                args.append(lo)
                if hi is not None:
                    cond.append(f"s.{column} <= ?")
                    args.append(hi)
        for tag in f.tags or ():
            cond.append("s.tags LIKE ?")
            args.append(f"%,{tag.strip().lower()},%")
        if f.path:
            cond.append("instr(f.path, ?) > 0")
            args.append(f.path)
        return (" WHERE " + " AND ".join(cond)) if cond else "", args

    def search(
        self, query: str | None = None, filters: Filters | None = None, limit: int | None = 10
    ) -> list[Hit]:
        """Shots matching ``filters``, ranked by similarity with ``query`` (by file and time
        when there is no query)."""
        where, args = self._where(filters or Filters())
        rows = self.conn.execute(
            "SELECT f.path, s.idx, s.start_frame, s.end_frame, s.start_timecode, "
            "s.end_timecode, s.start_seconds, s.end_seconds, s.summary, s.description, "
            "s.embedding, s.dialogue_embedding FROM shots s JOIN files f ON f.id = s.file_id"
            + where
            + " ORDER BY f.path, s.start_frame",
            args,
        ).fetchall()
        if not rows:
            return []
        if query and query.strip():
            from moviola.analysis.clip import look_scores
            from moviola.analysis.embed import embed

            q = embed(query.strip())
            matrix = np.stack([np.frombuffer(r[10], "<f4") for r in rows])
            similarity = matrix @ q
            hints = query_hints(query)
            tokens = re.findall(r"[a-z]+", query.lower())
            words = set(tokens) | {" ".join(p) for p in zip(tokens, tokens[1:], strict=False)}
            descriptions = [json.loads(r[9]) for r in rows]
            scores = similarity + np.array(
                [hint_bonus(hints, d, words) for d in descriptions], np.float32
            )
            said = [_said(query, d, r[11], q) for d, r in zip(descriptions, rows, strict=True)]
            scores = np.maximum(scores, np.array([s[0] for s in said], np.float32))
            looks = look_scores(query.strip(), descriptions)  # CLIP, when fetched
            if looks is not None:
                scores = np.maximum(scores, looks)
            order = np.argsort(-scores, kind="stable")
        else:
            scores = similarity = np.zeros(len(rows), np.float32)
            said = [(0.0, None, None)] * len(rows)
            order = np.arange(len(rows))
        if limit is not None:
            order = order[:limit]
        return [
            Hit(
                path=rows[i][0],
                index=rows[i][1],
                start_frame=rows[i][2],
                end_frame=rows[i][3],
                start_timecode=rows[i][4],
                end_timecode=rows[i][5],
                start_seconds=rows[i][6],
                end_seconds=rows[i][7],
                score=float(scores[i]),
                similarity=float(similarity[i]),
                summary=rows[i][8],
                description=json.loads(rows[i][9]),
                said=said[i][1],
                said_at=said[i][2],
            )
            for i in order
        ]


#: A phrase found word for word in a shot's dialogue scores this (a near match scales down to
#: SAID_FLOOR at PHRASE_MIN of its words), above any summary similarity seen in practice.
SAID_EXACT, SAID_FLOOR, PHRASE_MIN = 1.0, 0.6, 0.6


def _said(
    query: str, description: dict[str, Any], said_vector: bytes | None, q: np.ndarray
) -> tuple[float, str | None, float | None]:
    """How well a shot's dialogue matches the query: (score, words matched, their time).
    The phrase found in the words counts most; else the meaning of the whole dialogue."""
    from moviola.analysis.dialogue import find_phrase

    found = find_phrase(query, description.get("words") or [])
    if found and found[0] >= PHRASE_MIN:
        share, at, text = found
        score = SAID_FLOOR + (SAID_EXACT - SAID_FLOOR) * (share - PHRASE_MIN) / (1 - PHRASE_MIN)
        return score, text, at
    if said_vector:  # what the dialogue is about (its words shown only for a phrase found)
        return float(np.frombuffer(said_vector, "<f4") @ q), None, None
    return 0.0, None, None


def format_hits(hits: Iterable[Hit]) -> str:
    """Plain-text table of search results."""
    lines = []
    for rank, h in enumerate(hits, 1):
        lines.append(
            f"{rank:3d}. {h.score:5.3f}  {h.path}  shot {h.index}  "
            f"{h.start_timecode} - {h.end_timecode} ({h.duration:.1f} s)"
        )
        lines.append(f"       {h.summary}")
        if h.said:
            lines.append(f'       said at {h.said_at:.2f} s: "{h.said}"')
    return "\n".join(lines)
