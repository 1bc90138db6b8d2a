"""The studio in a real headless browser (Debian's chromium driven by Playwright): upload a
clip, choose an effect, run it, watch the progress finish, compare, download and check the
result with moviola's probe.

Needs the apt packages ``chromium`` (and ``chromium-driver`` for Selenium users) and the
Python package ``playwright`` (its own browser download is not used). Set
MOVIOLA_STUDIO_SCREENSHOTS=DIR to save screenshots of the pages on the way.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the Python package playwright is not installed"
)

from studio_server import Studio  # noqa: E402

from moviola.media import VideoReader, probe, synth  # noqa: E402


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("MOVIOLA_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium: install Debian's packages chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver)",
)
SHOTS = os.environ.get("MOVIOLA_STUDIO_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_upload_run_watch_compare_download(tmp_path, page):
    media = tmp_path / "media"
    media.mkdir()
    clip = tmp_path / "pick" / "street clip.mp4"
    clip.parent.mkdir()
    synth.make_clip(clip, width=320, height=240, duration=1.5, flashes=(0.5,))
    frames_in = probe(clip).video[0].frames
    with Studio(tmp_path / "data", [media]) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        # Every effect of the registry is offered.
        offered = page.eval_on_selector_all("#effect-select option", "els => els.map(e => e.value)")
        assert set(offered) == {e["name"] for e in server.json("GET", "/api/effects")["effects"]}

        # Upload through the file picker: it is listed, selected and probed.
        page.set_input_files("#upload-input", str(clip))
        page.wait_for_selector("li.selected[data-id='uploads/street_clip.mp4']")
        page.wait_for_selector("#probe-info")
        assert "320×240" in page.inner_text("#probe-info")

        # Choose resize from the generated form and run it on the whole clip.
        page.select_option("#effect-select", "resize")
        page.click("#effect-add")
        page.fill("[data-param='width']", "160")
        page.select_option("#out-format", "mkv")
        page.click("#run-full")

        # Progress arrives live (server-sent events) until the job is done.
        job = page.wait_for_selector("li.job[data-status='done']", timeout=120_000)
        assert f"{frames_in}/{frames_in} frames" in job.inner_text()
        width = page.eval_on_selector(
            "li.job[data-status='done'] .bar > span", "e => e.style.width"
        )
        assert width == "100%"

        # The result opens by itself: before/after frames of the same moment.
        page.wait_for_selector("#result:not(.hidden)")
        page.wait_for_function(
            "() => ['#cmp-before', '#cmp-after'].every(s => document.querySelector(s).complete"
            " && document.querySelector(s).naturalWidth > 0)"
        )
        sizes = page.evaluate(
            "() => [document.querySelector('#cmp-before').naturalWidth,"
            " document.querySelector('#cmp-after').naturalWidth]"
        )
        assert sizes == [320, 160]  # each side at its own size (no upscaling)
        assert page.is_disabled("#cmp-play")  # Matroska does not play in a browser: stills
        page.fill("#cmp-split", "30")
        page.dispatch_event("#cmp-split", "input")
        assert "70%" in page.get_attribute("#cmp-before-wrap", "style")
        _shot(page, "finished-job.png")

        # Download and check the file itself.
        with page.expect_download() as download_info:
            page.click("#result-download")
        target = tmp_path / "downloaded.mkv"
        download_info.value.save_as(target)
        assert download_info.value.suggested_filename == "street_clip-resize.mkv"
        info = probe(target)
        assert (info.video[0].width, info.video[0].height) == (160, 120)
        with VideoReader(target) as reader:
            assert sum(1 for _ in reader) == frames_in
        assert info.audio, "the audio was carried over"
        assert not page.errors, page.errors


def test_preview_cancel_and_errors_in_the_page(tmp_path, page):
    media = tmp_path / "media"
    media.mkdir()
    synth.make_clip(
        media / "long.mp4", width=160, height=120, duration=12.0, audio=False, flashes=()
    )
    with Studio(tmp_path / "data", [media]) as server:
        root = next(
            r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads"
        )
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        page.click(f"li[data-id='{root}/long.mp4']")
        page.wait_for_selector("#probe-info")
        page.select_option("#effect-select", "resize")
        page.click("#effect-add")

        # A bad value is refused next to its field; no job is made.
        page.fill("[data-param='scale']", "0.001")
        page.click("#run-full")
        page.wait_for_selector(".param[data-name='scale'] .field-error:not(.hidden)")
        assert "at least" in page.inner_text(".param[data-name='scale'] .field-error")
        assert page.locator("li.job").count() == 0

        # A preview of one second: 30 frames, from a chosen start.
        page.fill("[data-param='scale']", "0.5")
        page.fill("#preview-start", "3")
        page.fill("#preview-length", "1")
        page.click("#run-preview")
        preview = page.wait_for_selector("li.job[data-status='done']", timeout=120_000)
        assert "preview" in preview.inner_text() and "30/30 frames" in preview.inner_text()
        _shot(page, "preview.png")

        # Both play in sync: the input follows the output along the preview's range.
        page.wait_for_selector("#result:not(.hidden)")
        page.click("#cmp-play")
        page.wait_for_function(
            "() => document.querySelector('#vid-after').currentTime > 0.4", timeout=30_000
        )
        # the input video may still be loading on a busy machine: it follows once it can
        page.wait_for_function(
            "() => Math.abs(document.querySelector('#vid-before').currentTime - 3"
            " - document.querySelector('#vid-after').currentTime) < 0.3",
            timeout=30_000,
        )
        after, before = page.evaluate(
            "() => [document.querySelector('#vid-after').currentTime,"
            " document.querySelector('#vid-before').currentTime]"
        )
        assert before == pytest.approx(3 + after, abs=0.3)
        page.click("#cmp-play")
        assert page.is_visible("#cmp-after") and not page.is_visible("#vid-after")

        # A long job is cancelled from the page.
        page.click("#result-close")
        page.fill("[data-param='scale']", "")
        page.fill("[data-param='width']", "1600")
        page.click(".effect-card details.more summary")  # the folded options
        page.select_option("[data-param='interpolation']", "lanczos")
        page.click("#run-full")
        page.wait_for_selector(
            "li.job[data-status='running'] [data-action='cancel']", timeout=60_000
        )
        page.wait_for_function(
            "() => /\\d+\\/360 frames/.test(document.querySelector("
            "\"li.job[data-status='running'] .stats\").textContent)",
            timeout=60_000,
        )
        page.click("li.job[data-status='running'] [data-action='cancel']")
        page.wait_for_selector("li.job[data-status='cancelled']", timeout=60_000)
        assert not page.errors, page.errors


def test_rate_and_fraction_fields_check_their_values_in_the_browser(tmp_path, page):
    """Chromium compiles an input's pattern with the v flag; a pattern it rejects is a console
    error and no check at all (a user met this: the frame-rate fields)."""
    media = tmp_path / "media"
    media.mkdir()
    with Studio(tmp_path / "data", [media]) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        for effect, param, good, bad in (
            ("fps", "rate", ["30000/1001", "29.97", " ntsc ", "25"], ["abc", "30/"]),
            ("speed", "factor", ["2", "0.5", "1/3"], ["fast", "1/"]),
        ):
            page.select_option("#effect-select", effect)
            page.click("#effect-add")
            field = page.wait_for_selector(f"[data-param='{param}']")
            for text, valid in [(t, True) for t in good] + [(t, False) for t in bad]:
                field.fill(text)
                assert field.evaluate("e => e.checkValidity()") is valid, (effect, text)
        assert not [e for e in page.errors if "regular expression" in e.lower()], page.errors


@pytest.mark.skipif(
    not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").exists(),
    reason="needs Debian's fluid-soundfont-gm (scripts/setup.sh installs it)",
)
def test_music_panel_listens_then_renders(tmp_path, page):
    """Music for the chosen clip: a bad tempo is one plain line by the form; Listen plays the
    music alone in an audio player with its summary; Render plays the clip with its music."""
    pytest.importorskip("fluidsynth", reason="pyfluidsynth is not installed")
    from test_montage import _shot_clip, _tint

    media = tmp_path / "media"
    media.mkdir()
    # three shots of 1.6 s, hard cuts, no sound
    _shot_clip(media / "cuts.mp4", [_tint(40, 0), _tint(120, 1), _tint(200, 2)], 1.6, 3)
    with Studio(tmp_path / "data", [media]) as server:
        root = next(
            r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads"
        )
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        assert page.is_disabled("#music-listen")  # no clip chosen yet
        page.click(f"li[data-id='{root}/cuts.mp4']")
        page.wait_for_selector("#probe-info")
        page.wait_for_selector("#music-listen:not([disabled])")
        moods = page.eval_on_selector_all("#music-mood option", "els => els.map(e => e.text)")
        assert "calm: unhurried, warm" in moods
        page.select_option("#music-mood", "sad")
        assert page.inner_text("#music-style option:checked") == "the mood's own (strings)"

        # A tempo out of range: one plain line next to the form, no job.
        assert page.is_disabled("input[name='music-sound'][value='mix']")  # a silent clip
        page.select_option("#music-tempo-mode", "set")
        page.fill("#music-bpm", "900")
        page.click("#music-listen")
        page.wait_for_selector("#music-error:not(.hidden)")
        assert "beats a minute" in page.inner_text("#music-error")
        assert page.locator("li.job").count() == 0

        page.select_option("#music-tempo-mode", "auto")
        page.fill("#music-seed", "7")
        page.click("#music-listen")
        page.wait_for_selector("#music-error", state="hidden")
        page.wait_for_selector("#music-listened:not(.hidden)", timeout=90_000)
        src = page.get_attribute("#music-audio", "src")
        assert src and src.endswith("/result?inline=1")
        page.wait_for_function(
            "() => document.querySelector('#music-audio').duration > 4.6", timeout=30_000
        )
        summary = page.inner_text("#music-summary")
        assert "beats a minute" in summary and "on a beat" in summary and "4.8 s" in summary
        job = server.json("GET", "/api/jobs")["jobs"][0]
        assert (job["spec"]["mood"], job["spec"]["seed"], job["spec"]["listen"]) == ("sad", 7, True)
        _shot(page, "music-listen.png")

        page.check("#music-midi")
        page.click("#music-render")
        page.wait_for_selector("#music-rendered:not(.hidden)", timeout=90_000)
        page.wait_for_function(
            "() => document.querySelector('#music-video').duration > 4.6", timeout=30_000
        )
        assert page.locator("#music-links [data-action='midi']").count() == 1
        assert page.locator("li.job[data-status='done'] [data-action='play']").count() == 2
        _shot(page, "music-render.png")
        assert not page.errors, page.errors
