"""The studio's forms as a user meets them, in Debian's chromium (Playwright): every effect's
form opens without a console error or warning, with plain labels, file pickers and sliders; the
page keeps the chosen clip and the chain across a reload; a job's settings are shown and loaded
back into the editor; a value that does not fit is refused next to its field.

Set MOVIOLA_STUDIO_SCREENSHOTS=DIR to keep the screenshots (see test_studio_browser.py).
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")

from studio_server import Studio  # noqa: E402
from test_studio_browser import CHROMIUM, _shot, browser  # noqa: E402, F401

from moviola.media import synth  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium")


@pytest.fixture
def page(browser):  # noqa: F811
    """A page that records console errors and warnings, and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    noise: list[str] = []
    page.on("pageerror", lambda exc: noise.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            noise.append(f"{msg.type}: {msg.text}") if msg.type in ("error", "warning") else None
        ),
    )
    page.noise = noise
    yield page
    context.close()


@pytest.fixture
def media(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    synth.make_clip(folder / "clip.mp4", width=160, height=120, duration=1.5, flashes=(0.5,))
    synth.make_clip(folder / "other.mp4", width=160, height=120, duration=1.0, flashes=())
    import cv2

    cv2.imwrite(str(folder / "face.png"), synth.picture(64, 64, 0, 0.0)[..., ::-1])
    return folder


def _open(page, server, clip: str | None = "clip.mp4") -> str:
    root = next(r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads")
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready='1']")
    if clip:
        page.click(f"li[data-id='{root}/{clip}']")
        page.wait_for_selector("#probe-info")
    return root


def _add(page, effect: str):
    page.select_option("#effect-select", effect)
    page.click("#effect-add")
    return page.locator(".effect-card").last


def test_every_form_opens_plainly_without_console_noise(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server, clip=None)
        effects = server.json("GET", "/api/effects")["effects"]
        for effect in effects:
            _add(page, effect["name"])
        for more in page.query_selector_all(".effect-card details.more summary"):
            more.click()
        assert page.locator(".effect-card").count() == len(effects)
        # plain labels: no type tags such as "str" or "path"
        labels = page.eval_on_selector_all(".param > .pname", "els => els.map(e => e.textContent)")
        names = [p["name"].replace("_", " ") for e in effects for p in e["params"]]
        assert [t.removesuffix(" (one or more)") for t in labels] == names
        tags = page.eval_on_selector_all(".pname .ptype", "els => els.map(e => e.textContent)")
        assert set(tags) <= {" (one or more)"}, set(tags)
        # a file-valued field is a picker over the footage, photos included
        face = page.locator(".effect-card[data-effect='faceswap'] select[data-param='face']")
        assert face.count() == 1
        options = face.locator("option").evaluate_all("els => els.map(e => e.value)")
        assert f"{root}/face.png" in options and f"{root}/clip.mp4" in options
        # bounded numbers have a slider that writes its value into the box
        slider = page.locator("[data-slider]").first
        name = slider.get_attribute("data-slider")
        slider.fill(slider.get_attribute("max") or "1")
        box = slider.locator("xpath=following-sibling::input").first
        assert box.input_value() != "", name
        # the upload box takes photos and sounds too, and says so
        assert "photo" in page.inner_text("#drop") and "sound" in page.inner_text("#drop")
        assert "audio/*" in (page.get_attribute("#upload-input", "accept") or "")
        # models that are not installed are set apart, with their size and license
        texts = page.eval_on_selector_all(
            "optgroup[label='not installed'] option", "els => els.map(e => e.textContent)"
        )
        assert all("not installed (" in t for t in texts), texts
        _shot(page, "forms-every-effect.png")
        assert not page.noise, page.noise


def test_reload_keeps_the_clip_the_chain_and_its_values(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server, clip="other.mp4")
        _add(page, "resize").locator("[data-param='width']").fill("640")
        _add(page, "fps").locator("[data-param='rate']").fill("25")
        page.fill("#preview-start", "0.5")
        page.wait_for_timeout(400)  # the page saves what changed a moment later
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector(f"li.selected[data-id='{root}/other.mp4']")
        cards = page.eval_on_selector_all(".effect-card", "els => els.map(e => e.dataset.effect)")
        assert cards == ["resize", "fps"]
        assert page.input_value(".effect-card[data-effect='resize'] [data-param='width']") == "640"
        assert page.input_value(".effect-card[data-effect='fps'] [data-param='rate']") == "25"
        assert page.input_value("#preview-start") == "0.5"
        assert "other.mp4" in page.inner_text("#chain-input")
        _shot(page, "forms-after-reload.png")
        page.click("#tab-editing")  # the open tab is remembered too
        page.wait_for_timeout(400)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("#view-editing:not(.hidden)")
        assert not page.noise, page.noise


def test_values_that_do_not_fit_are_refused_next_to_their_field(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server)
        card = _add(page, "resize")
        width = card.locator("[data-param='width']")
        width.fill("12px")
        page.click("#run-full")
        error = card.locator(".param[data-name='width'] .field-error")
        assert "not a number" in error.inner_text()
        assert page.locator("li.job").count() == 0
        width.fill("")
        assert error.is_hidden()  # fixed: the message goes

        card.locator("[data-param='scale']").fill("0.001")
        page.click("#run-full")
        assert (
            card.locator(".param[data-name='scale'] .field-error").inner_text() == "at least 0.01"
        )
        card.locator("[data-param='scale']").fill("0.5")

        # the server's refusal lands next to its field, in plain words (not the CLI's)
        swap = _add(page, "faceswap")
        page.click("#run-full")
        face_error = swap.locator(".param[data-name='face'] .field-error")
        face_error.wait_for()
        assert face_error.inner_text() == "face is required"
        assert page.is_hidden("#banner")
        _shot(page, "forms-field-error.png")
        swap.locator("button[title='remove']").click()

        # a preview that starts past the end of the 1.5 s clip: refused before any job
        page.fill("#preview-start", "9")
        page.click("#run-preview")
        assert "past the end" in page.inner_text("#preview-error")
        assert page.locator("li.job").count() == 0

        # output options are checked too
        page.fill("#preview-start", "0")
        page.fill("#out-crf", "99")
        page.click("#run-full")
        assert "0 to 63" in page.inner_text("#out-error")
        page.fill("#out-crf", "20")
        assert page.is_hidden("#out-error")

        # an error the page cannot place goes to the banner, which goes once a field changes
        page.route(
            "**/api/jobs",
            lambda route: (
                route.fulfill(
                    status=400,
                    content_type="application/json",
                    body='{"error": "the disk is full"}',
                )
                if route.request.method == "POST"
                else route.continue_()
            ),
        )
        page.click("#run-full")
        page.wait_for_selector("#banner:not(.hidden)")
        assert page.inner_text("#banner-text") == "the disk is full"
        page.fill("#out-crf", "22")
        assert page.is_hidden("#banner")
        page.unroute("**/api/jobs")

        # trim with nothing filled in would copy the clip: refused, in words
        card.locator("button[title='remove']").click()
        trim = _add(page, "trim")
        page.click("#run-full")
        trim.locator(".card-error").wait_for()
        assert "unchanged" in trim.locator(".card-error").inner_text()
        assert page.locator("li.job").count() == 0
        refused = "the server responded with a status of 400"  # the refusals above
        assert not [n for n in page.noise if refused not in n], page.noise


def test_a_jobs_settings_are_shown_and_edited_again(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server)
        _add(page, "resize").locator("[data-param='width']").fill("96")
        page.click("#run-full")
        page.wait_for_selector("li.job[data-status='done']", timeout=120_000)
        job = page.locator("li.job[data-status='done']")
        assert job.locator(".jtitle").inner_text() == "resize · width 96 on clip.mp4"
        page.click("#result-close")
        job.locator(".settings summary").click()
        assert "width 96" in job.locator(".settings").inner_text()
        _shot(page, "forms-job-settings.png")

        page.locator(".effect-card button[title='remove']").click()
        assert page.locator(".effect-card").count() == 0
        page.click("li.job [data-action='edit']")
        page.wait_for_selector(".effect-card[data-effect='resize']")
        assert page.input_value("[data-param='width']") == "96"
        page.fill("[data-param='width']", "80")
        page.click("#run-full")
        page.wait_for_function(
            "() => [...document.querySelectorAll('li.job .jtitle')]"
            ".some(e => e.textContent.startsWith('resize · width 80'))"
        )
        assert not page.noise, page.noise


def test_a_second_pass_is_named_and_its_bar_never_goes_back(tmp_path, page, media):
    """Progress as the worker reports it for a described shot search (two passes)."""
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server, clip=None)

        def push(n: int, fraction: float) -> tuple[str, str]:
            progress = {"frames": 1, "total": 10, "fraction": fraction, "pass": n, "passes": 2}
            progress["pass_text"] = ["finding the cuts", "describing the shots"][n - 1]
            job: dict = {"id": "j1", "kind": "shots", "status": "running", "created": 1}
            job.update(title="shots of clip", spec={}, progress=progress)
            page.evaluate("job => upsertJob(job)", job)
            return (
                page.inner_text("li.job[data-id='j1'] .stats"),
                page.eval_on_selector("li.job[data-id='j1'] .bar > span", "e => e.style.width"),
            )

        assert push(1, 0.5) == ("pass 1 of 2: finding the cuts · 1/10 frames", "50%")
        assert push(1, 0.4)[1] == "50%"  # never backwards within a pass
        text, width = push(2, 0.1)
        assert text.startswith("pass 2 of 2: describing the shots") and width == "10%"
        assert not page.noise, page.noise


def test_search_says_no_match_below_the_threshold(tmp_path, page, media):
    """Scores below editing.MATCH_THRESHOLD (measured by bench/studio_search.py) are no match:
    the page says so and shows the closest shots as weak ones."""
    from moviola.studio.editing import MATCH_THRESHOLD

    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server, clip=None)
        if not server.json("GET", "/api/editing")["search"]:
            pytest.skip("search needs moviola[analysis]")
        shot = {"index": 0, "start_seconds": 0, "end_seconds": 1, "frames": 30, "source": ""}
        shot.update(start_timecode="00:00:00.000", end_timecode="00:00:01.000")
        shot["source"] = f"{root}/clip.mp4"

        def answer(scores):
            results = [{**shot, "score": s, "match": s >= MATCH_THRESHOLD} for s in scores]
            body = {"query": "a rocket launch", "results": results, "threshold": MATCH_THRESHOLD}
            body["matched"] = any(r["match"] for r in results)
            return json.dumps(body)

        replies = [answer([0.31, 0.2]), answer([0.52, 0.3])]
        page.route(
            "**/api/editing/search",
            lambda route: route.fulfill(
                status=200, content_type="application/json", body=replies.pop(0)
            ),
        )
        page.click("#tab-editing")
        page.fill("#search-query", "a rocket launch")
        page.click("#search-run")
        page.wait_for_selector("#search-no-match")
        assert page.inner_text("#search-no-match").startswith("no match for “a rocket launch”")
        assert page.locator("#search-results .shot.weak").count() == 2
        _shot(page, "search-no-match.png")
        page.click("#search-run")
        page.wait_for_selector("#search-results .shot:not(.weak)")
        assert page.locator("#search-no-match").count() == 0
        assert page.locator("#search-results .shot").count() == 1  # the weak one is left out
        assert page.locator("#search-results .shot.weak").count() == 0
        assert not page.noise, page.noise


def test_stylize_keyframes_are_edited_as_a_frame_and_a_painted_image(tmp_path, page, media):
    with Studio(tmp_path / "data", [media]) as server:
        root = _open(page, server)
        card = _add(page, "stylize")
        where = card.locator("[data-keyframe-where='keyframe']").first
        picker = card.locator("select[data-param='keyframe']").first
        picker.select_option(f"{root}/face.png")
        page.click("#run-full")
        assert (
            "which frame" in card.locator(".param[data-name='keyframe'] .field-error").inner_text()
        )
        where.fill("15")
        where.dispatch_event("change")
        thumb = card.locator(".kf-thumb").first
        assert "t=0.50" in (thumb.get_attribute("src") or "")  # frame 15 at 29.97 fps
        page.wait_for_function("() => document.querySelector('.kf-thumb').naturalWidth > 0")
        assert page.evaluate("() => chainValues()") == [
            {"name": "stylize", "params": {"keyframe": [f"15={root}/face.png"]}}
        ]
        _shot(page, "forms-keyframes.png")
        assert not page.noise, page.noise
