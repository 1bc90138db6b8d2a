"""The studio's player and timeline, asset library, presets and comparison videos as a user meets
them, in Debian's chromium (Playwright): frame steps at the clip's exact rate, in/out points
that become a run's range, shots and a transcript on the timeline, results reused as footage
with their lineage, delete with confirmation, presets saved, exported and imported, and the
before/after comparison exported as a video; no console error or warning anywhere.

Set MOVIOLA_STUDIO_SCREENSHOTS=DIR to keep the screenshots (see test_studio_browser.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")

import test_studio_browser_forms as forms  # noqa: E402
from studio_server import Studio  # noqa: E402
from test_studio_browser import CHROMIUM, SHOTS, _shot, browser  # noqa: E402, F401
from test_studio_library_api import make_cut_clip  # noqa: E402

from moviola.media import probe  # noqa: E402
from moviola.studio.store import JobStore  # noqa: E402

page, media, _add, _open = forms.page, forms.media, forms._add, forms._open
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium")


def _part(page, selector: str, name: str) -> None:
    """A screenshot of one part of the page (kept with MOVIOLA_STUDIO_SCREENSHOTS=DIR)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.locator(selector).screenshot(path=str(Path(SHOTS) / name))


def _frame(page) -> int:
    return int(page.get_attribute("#player-time", "data-frame") or -1)


def _wait_done(server, title_start: str, timeout: float = 120) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job in server.json("GET", "/api/jobs")["jobs"]:
            if job["title"].startswith(title_start) and job["status"] in ("done", "failed"):
                assert job["status"] == "done", job["error"]
                return job
        time.sleep(0.2)
    raise AssertionError(f"no finished job {title_start!r}")


def test_player_steps_exact_frames_and_in_out_become_the_range(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server)  # clip.mp4: 1.5 s at 30000/1001 fps, 45 frames
        page.wait_for_selector("#player:not(.hidden)")
        assert page.inner_text("#player-time").startswith("frame 0 of 45")
        for _ in range(9):
            page.click("#player-fwd")
        assert _frame(page) == 9
        page.click("#player-in")
        page.locator("#timeline").focus()
        for _ in range(12):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        assert _frame(page) == 20
        page.keyboard.press("o")
        assert "12 frames" in page.inner_text("#player-range")
        # scrubbing: the middle of the timeline is the middle of the clip
        box = page.locator("#timeline").bounding_box()
        assert box
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 5)
        assert _frame(page) == 22
        if page.is_enabled("#player-play"):  # the browser plays H.264: the range plays
            page.click("#player-play")  # from the in point (past the out point), to the out point
            page.wait_for_function(
                "() => document.querySelector('#player-video').paused"
                " && document.querySelector('#player-time').dataset.frame === '20'"
            )
        page.mouse.click(box["x"] + box["width"] * 15.5 / 45, box["y"] + 5)
        assert _frame(page) == 15
        _shot(page, "player-timeline.png")
        _part(page, "#player", "part-player.png")

        _add(page, "resize").locator("[data-param='width']").fill("80")
        page.click("#run-full")
        job = _wait_done(server, "resize")
        assert job["result"]["frames_out"] == 12  # frames 9 to 20, exactly
        assert job["spec"]["range"] == {"start": 9 * 1001 / 30000, "end": 21 * 1001 / 30000}
        page.click("#result-close")
        page.reload()  # in/out are remembered for the clip
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#player:not(.hidden)")
        page.wait_for_function(
            "() => document.querySelector('#player-range').textContent.includes('12 frames')"
        )
        page.fill("#preview-length", "0.2")  # a preview from the in point: 6 frames
        page.click("#run-preview")
        preview = _wait_done(server, "resize · width 80 on clip.mp4 (preview)")
        assert preview["result"]["frames_out"] == 6
        assert preview["spec"]["preview"]["start"] == pytest.approx(9 * 1001 / 30000)
        page.click("#player-clear")
        assert page.inner_text("#player-range") == "whole clip"
        page.click(f"li.job[data-id='{job['id']}'] [data-action='edit']")  # its range comes back
        page.wait_for_function(
            "() => document.querySelector('#player-range').textContent.startsWith('in 9 ')"
        )
        assert "12 frames" in page.inner_text("#player-range")
        assert not page.noise, page.noise


def test_timeline_shows_shots_and_the_transcript(tmp_path, page, media):
    make_cut_clip(media / "cut.mp4")
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server, clip="cut.mp4")
        page.wait_for_selector("#player:not(.hidden)")
        assert "no transcript" in page.inner_text(".tl-notes")
        assert page.inner_text("#tl-shots-note") == "shots not found yet"
        page.click("#tl-find-shots")
        page.wait_for_selector(".tl-shot >> nth=1", timeout=120_000)
        frames = page.eval_on_selector_all(".tl-shot", "els => els.map(e => e.dataset.frame)")
        assert frames == ["0", "20"]
        assert page.inner_text("#tl-shots-note") == "2 shots"
        # a transcript of the clip (as a transcription job leaves it) shows what is said
        store = JobStore(server.data / "studio.db")
        spec = {"input": f"{root}/cut.mp4", "input_path": str(media / "cut.mp4"), "model": "x"}
        made = store.create("transcript", spec, title="transcript of cut.mp4")
        folder = server.data / "jobs" / made["id"]
        folder.mkdir(parents=True)
        segments = [{"start": 0.1, "end": 0.7, "text": "The first shot."}]
        segments.append({"start": 0.85, "end": 1.5, "text": "And the second one."})
        (folder / "transcript.json").write_text(json.dumps({"segments": segments}))
        store.finish(made["id"], "done", result={"output": "transcript.json"})
        page.reload()
        page.wait_for_selector(".tl-word >> nth=1")
        assert page.locator(".tl-word").all_inner_texts() == [
            "The first shot.",
            "And the second one.",
        ]
        page.locator(".tl-word").nth(1).click()
        assert _frame(page) == 21  # 0.85 s at 25 fps
        _shot(page, "player-shots-transcript.png")
        _part(page, "#player", "part-timeline.png")
        assert not page.noise, page.noise


def test_asset_library_sort_filter_lineage_reuse_and_delete(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server)
        page.wait_for_selector("#media-list img.thumb")
        page.select_option("#asset-sort", "name")
        page.wait_for_function(
            "() => document.querySelector('#media-list li').dataset.id.endsWith('clip.mp4')"
        )
        names = page.eval_on_selector_all(
            "#media-list li.asset", "els => els.map(e => e.dataset.id)"
        )
        assert names == [f"{root}/clip.mp4", f"{root}/face.png", f"{root}/other.mp4"]
        page.select_option("#asset-kind", "photo")
        page.wait_for_function(
            "() => document.querySelectorAll('#media-list li.asset').length === 1"
        )
        page.select_option("#asset-kind", "")
        page.fill("#media-filter", "oth")
        page.wait_for_function(
            "() => document.querySelectorAll('#media-list li.asset').length === 1"
        )
        page.fill("#media-filter", "")
        assert page.locator("#asset-delete").count() == 0  # a media folder's file: no delete

        _add(page, "resize").locator("[data-param='width']").fill("96")
        page.click("#run-full")
        job = _wait_done(server, "resize")
        result = f"results/{job['id']}/{job['result']['output']}"
        page.wait_for_selector(f"#media-list li[data-origin='result'][data-id='{result}']")
        page.click("#result-close")
        page.click(f"li.job[data-id='{job['id']}'] [data-action='use']")  # one click
        page.wait_for_selector(f"#media-list li.selected[data-id='{result}']")
        assert result in page.inner_text("#chain-input")
        lineage = page.locator("#asset-lineage li").first
        lineage.wait_for()
        assert "made by resize · width 96 on clip.mp4 from" in lineage.inner_text()
        _shot(page, "assets-lineage.png")
        _part(page, ".media-panel", "part-assets.png")
        # the result is the next job's footage; its lineage goes back to the clip
        page.fill(".effect-card [data-param='width']", "64")
        page.click("#run-full")
        second = _wait_done(server, "resize · width 64")
        assert second["spec"]["input"] == result
        page.wait_for_selector(f"li.job.active[data-id='{second['id']}']")  # its result opened
        page.click("#result-close")

        page.on("dialog", lambda dialog: dialog.accept())
        page.click(f"#media-list li[data-id='{result}']")
        page.click("#asset-delete")
        page.wait_for_selector(f"#media-list li[data-id='{result}']", state="detached")
        assert server.json("GET", f"/api/jobs/{job['id']}", expect=404)
        assert (media / "clip.mp4").is_file()
        assert not page.noise, page.noise


def test_presets_save_load_export_import(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server)
        _add(page, "resize").locator("[data-param='width']").fill("640")
        _add(page, "fps").locator("[data-param='rate']").fill("25")
        page.fill("#preset-name", "Web 640")
        page.click("#preset-save")
        page.wait_for_selector("#preset-select option[value='Web 640']", state="attached")
        for _ in range(2):
            page.locator(".effect-card button[title='remove']").first.click()
        page.click("#preset-load")
        page.wait_for_selector(".effect-card[data-effect='fps']")
        assert page.input_value(".effect-card[data-effect='resize'] [data-param='width']") == "640"
        with page.expect_download() as download:
            page.click("#preset-export")
        exported = json.loads(download.value.path().read_text())
        assert [e["name"] for e in exported["effects"]] == ["resize", "fps"]
        _shot(page, "presets.png")
        _part(page, "#presets", "part-presets.png")

        page.set_input_files(
            "#preset-import",
            {"name": "bad.json", "mimeType": "application/json", "buffer": b"{oops"},
        )
        page.wait_for_selector("#preset-error:not(.hidden)")
        assert page.inner_text("#preset-error") == "the file is not a preset: it is not JSON"
        exported["effects"][0]["name"] = "warp-drive"
        body = json.dumps(exported).encode()
        page.set_input_files(
            "#preset-import", {"name": "x.json", "mimeType": "application/json", "buffer": body}
        )
        page.wait_for_function(
            "() => document.querySelector('#preset-error').textContent.includes('warp-drive')"
        )
        assert page.inner_text("#preset-error") == "unknown effect 'warp-drive'"
        exported["effects"][0]["name"], exported["name"] = "resize", "Shared"
        body = json.dumps(exported).encode()
        page.set_input_files(
            "#preset-import", {"name": "s.json", "mimeType": "application/json", "buffer": body}
        )
        page.wait_for_selector("#preset-select option[value='Shared']", state="attached")
        page.on("dialog", lambda dialog: dialog.accept())
        page.select_option("#preset-select", "Shared")
        page.click("#preset-delete")
        page.wait_for_selector("#preset-select option[value='Shared']", state="detached")
        assert [p["name"] for p in server.json("GET", "/api/presets")["presets"]] == ["Web 640"]
        refused = "the server responded with a status of 400"  # the refused imports above
        assert not [n for n in page.noise if refused not in n], page.noise


def test_comparison_exported_as_a_video(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server)
        _add(page, "stylize").locator("[data-param='filter']").select_option("sketch")
        page.fill("#preview-length", "0.5")
        page.click("#run-preview")
        page.wait_for_selector("#result:not(.hidden)", timeout=120_000)
        page.select_option("#cmp-export-mode", "side")
        page.click("#cmp-export")
        page.wait_for_selector("#cmp-export-download", timeout=120_000)
        _shot(page, "compare-export.png")
        _part(page, "#result", "part-compare-export.png")
        with page.expect_download() as download:
            page.click("#cmp-export-download")
        info = probe(download.value.path())
        assert info.video[0].width == 2 * 160 and info.audio
        compare = _wait_done(server, "before/after (side by side)")
        assert (
            page.locator(f"li.job[data-id='{compare['id']}'] [data-action='download']").count() == 1
        )
        assert not page.noise, page.noise


def test_projects_group_footage_and_jobs_and_a_batch_runs_the_chain(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server, clip=None)
        page.fill("#project-name", "Teaser")
        page.click("#project-create")
        page.wait_for_function("() => document.querySelector('#project-select').value === 'Teaser'")
        page.wait_for_selector("#media-list li.root")  # an empty project: nothing listed
        page.check("#project-all")  # pick footage from everything
        for name in ("clip.mp4", "other.mp4"):
            page.check(f"#media-list li[data-id='{root}/{name}'] input.pick")
        assert page.inner_text("#batch-count") == "2 selected:"
        page.click("#batch-add")
        page.uncheck("#project-all")
        page.wait_for_function(
            "() => document.querySelectorAll('#media-list li.asset').length === 2"
        )
        page.check(f"#media-list li[data-id='{root}/clip.mp4'] input.pick")
        page.check(f"#media-list li[data-id='{root}/other.mp4'] input.pick")
        _add(page, "resize").locator("[data-param='width']").fill("64")
        page.click("#batch-run")
        page.wait_for_selector("li.job[data-status='done'] >> nth=1", timeout=120_000)
        titles = page.locator("li.job .jtitle").all_inner_texts()
        assert sorted(titles) == ["resize · width 64 on clip.mp4", "resize · width 64 on other.mp4"]
        page.wait_for_function(
            "() => document.querySelectorAll('#media-list li.asset').length === 4"
        )
        _part(page, ".media-panel", "part-projects.png")
        # a job outside the project is not listed while it is chosen
        outside = {
            "input": f"{root}/clip.mp4",
            "effects": [{"name": "resize", "params": {"width": 32}}],
        }
        server.wait_job(server.json("POST", "/api/jobs", outside, expect=201)["id"])
        page.reload()  # the chosen project is remembered
        page.wait_for_selector("body[data-ready='1']")
        assert page.input_value("#project-select") == "Teaser"
        page.wait_for_function("() => document.querySelectorAll('li.job').length === 2")
        page.select_option("#project-select", "")
        page.wait_for_function("() => document.querySelectorAll('li.job').length === 3")
        assert not page.noise, page.noise
