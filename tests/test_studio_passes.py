"""A studio job of two passes (shots, then their descriptions) reports which pass runs, so the
page can say "pass 2 of 2: describing the shots" instead of a bar that goes back."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from moviola.pipeline import Progress
from moviola.studio import worker


class _Store:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def progress(self, job_id: str, record: dict) -> None:
        self.records.append(record)


class _Shots(SimpleNamespace):
    def to_json(self) -> str:
        return "{}"


def test_each_pass_is_named_and_counts_from_its_start(tmp_path, monkeypatch):
    shots_mod = pytest.importorskip("moviola.analysis.shots")
    describe_mod = pytest.importorskip("moviola.analysis.describe")
    found = _Shots(shots=[1, 2], detector="fake", frames=10)

    def detect(path, method, progress):
        for n in (5, 10):
            progress(Progress(n, 10, 1.0))
        return found

    def describe(path, shot_list, progress):
        for n in (3, 10):
            progress(Progress(n, 10, 1.0))
        return shot_list

    monkeypatch.setattr(shots_mod, "detect_shots", detect)
    monkeypatch.setattr(describe_mod, "describe_shots", describe)
    monkeypatch.setattr(worker, "_attach_dialogue", lambda *a: None)
    monkeypatch.setattr(worker, "_add_to_library", lambda *a: None)
    store = _Store()
    job = {"id": "j", "spec": {"input_path": "clip.mp4", "describe": True}}
    watch = SimpleNamespace(cancel=threading.Event())
    job_dir = tmp_path / "data" / "jobs" / "j"
    job_dir.mkdir(parents=True)
    result = worker.run_shots_job(job, job_dir, watch, store)  # type: ignore[arg-type]
    assert result["described"] is True
    seen = [(r["pass"], r["passes"], r["pass_text"], r["fraction"]) for r in store.records]
    assert seen == [
        (1, 2, "finding the cuts", 0.5),
        (1, 2, "finding the cuts", 1.0),
        (2, 2, "describing the shots", 0.3),
        (2, 2, "describing the shots", 1.0),
    ]
