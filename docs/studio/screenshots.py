"""Screenshots of the studio for docs/studio.md, in headless Debian chromium (Playwright).

    .venv/bin/python docs/studio/screenshots.py   # needs samples/ (make samples) and chromium

Starts a studio on samples/ (and a three-shot edit made from them), runs a cartoon preview on
vtest.avi and finds the shots of the edit, and saves main.jpg, result.jpg, editing.jpg and
player.jpg (the edit in the player, its shots on the timeline, an in/out range) here.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402
from shot_edit import make_edit  # noqa: E402
from studio_server import Studio  # noqa: E402

HERE = Path(__file__).resolve().parent
SAMPLES = ROOT / "samples"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        edits = Path(tmp) / "edits"
        edits.mkdir()
        make_edit(
            edits / "three-shots.mp4",
            [
                (SAMPLES / "vtest.avi", 0, 45),
                (SAMPLES / "Megamind.avi", 100, 45),
                (SAMPLES / "tree.avi", 0, 45),
            ],
        )
        with Studio(Path(tmp) / "data", [SAMPLES, edits]) as server, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-ready='1']")
            page.click("li[data-id='samples/vtest.avi']")
            page.wait_for_selector("#probe-info")
            page.wait_for_function("() => document.querySelector('#probe-thumb').naturalWidth")
            page.select_option("#effect-select", "stylize")
            page.click("#effect-add")
            page.select_option("[data-param='filter']", "cartoon")
            page.fill("#preview-start", "10")
            page.click("#run-preview")
            page.wait_for_selector("li.job[data-status='running']", timeout=60_000)
            page.wait_for_function(
                "() => /\\d+\\/\\d+ frames/.test(document.querySelector('li.job .stats')"
                ".textContent)",
                timeout=60_000,
            )
            page.evaluate("() => window.scrollTo(0, 0)")  # the run button scrolled the page
            page.screenshot(path=str(HERE / "main.jpg"), quality=80)
            page.wait_for_selector("li.job[data-status='done']", timeout=300_000)
            page.wait_for_function(
                "() => ['#cmp-before', '#cmp-after'].every(s => "
                "document.querySelector(s).naturalWidth > 0)"
            )
            page.fill("#cmp-split", "45")
            page.dispatch_event("#cmp-split", "input")
            page.wait_for_timeout(500)
            page.locator("#result").screenshot(path=str(HERE / "result.jpg"), quality=80)
            page.click("#tab-editing")
            page.click("li[data-id='edits/three-shots.mp4']")
            page.select_option("#shots-method", "fast")
            page.check("#shots-describe")
            page.click("#shots-run")
            page.wait_for_selector(".shot img", timeout=300_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.shot img')].every(i => i.naturalWidth)"
            )
            page.fill("#search-query", "animated close-up")
            page.click("#search-run")
            page.wait_for_selector(
                "#search-results .shot, #search-results p:not(:first-child)", timeout=120_000
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('.shot img')].every(i => i.naturalWidth)"
            )
            page.screenshot(path=str(HERE / "editing.jpg"), full_page=True, quality=80)
            # the player on the edit: its three shots (found above) and an in/out range
            page.click("#tab-effects")
            page.click("li[data-id='edits/three-shots.mp4']")
            page.wait_for_selector(".tl-shot >> nth=2")
            for frame, key in ((50, "i"), (100, "o")):
                page.evaluate("n => player.show(n)", frame)
                page.locator("#timeline").focus()
                page.keyboard.press(key)
            page.evaluate("() => player.show(70)")
            page.wait_for_timeout(800)
            page.locator("#player").screenshot(path=str(HERE / "player.jpg"), quality=80)
            browser.close()
    names = ("main.jpg", "result.jpg", "editing.jpg", "player.jpg")
    print("wrote", ", ".join(str(HERE / n) for n in names))


if __name__ == "__main__":
    main()
