"""Picking a subject on the player's frame in Debian's chromium (Playwright): faceswap's faces
drawn as boxes and a click on one sets its target; matte's point taken on the frame its run
starts from (the player goes there), marked, set in the form, and MobileSAM's absence said
plainly; no console error or warning.

Set MOVIOLA_STUDIO_SCREENSHOTS=DIR to keep the screenshots (see test_studio_browser.py).
"""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
pytest.importorskip("ai_edge_litert", reason="the face models' runtime is not installed")

import test_studio_browser_forms as forms  # noqa: E402
from studio_server import Studio  # noqa: E402
from test_studio_browser import CHROMIUM, browser  # noqa: E402, F401
from test_studio_browser_library import _frame, _part  # noqa: E402
from test_studio_pick import two_faces  # noqa: E402

page, _add, _open = forms.page, forms._add, forms._open
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium")


def _centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_pick_a_face_then_a_matte_subject(tmp_path, page):
    media = tmp_path / "media"
    media.mkdir()
    two_faces(media / "two.mp4")
    with Studio(tmp_path / "data", [media]) as server:
        _open(page, server, "two.mp4")
        page.wait_for_selector("#player:not(.hidden)")
        _add(page, "faceswap")
        page.evaluate("player.show(40)")
        page.click("#player-pick")
        page.wait_for_function("() => document.querySelectorAll('.pick-box').length === 2")
        assert "click one to target it" in page.inner_text("#pick-note")
        big = page.locator(".pick-box", has_text="largest")
        face = big.get_attribute("data-face")
        page.mouse.click(*_centre(big))
        target = page.locator(".effect-card[data-effect=faceswap] [data-name=target] input")
        page.wait_for_function(
            f"() => document.querySelector('.effect-card[data-effect=faceswap] [data-name=target] input').value === '{face}'"
        )
        assert target.input_value() == face
        page.wait_for_selector(f".pick-box.chosen[data-face='{face}']")
        assert f"target set to face {face}" in page.inner_text("#pick-note")
        _part(page, "#player", "pick-faces.png")
        # outside the picture (the black bars round it): said, nothing set
        screen = page.locator("#player-screen").bounding_box()
        assert screen is not None
        page.mouse.click(screen["x"] + 3, screen["y"] + screen["height"] - 3)
        page.wait_for_function(
            "() => document.querySelector('#pick-note').textContent.includes('bars')"
        )

        # faceswap and matte in the chain: the select beside the button chooses
        _add(page, "matte")
        page.wait_for_selector("#pick-effect:not(.hidden)")
        # matte alone: a whole run starts at frame 0, and the player goes there
        page.click(".effect-card[data-effect=faceswap] button[title=remove]")
        page.wait_for_selector("#pick-effect.hidden", state="attached")
        page.wait_for_function(
            "() => document.querySelector('#pick-note').textContent.includes('frame 0 (')"
        )
        assert _frame(page) == 0
        # an in point at frame 70: matte's point belongs on frame 22 (48 warm-up frames)
        page.evaluate("player.show(70)")
        page.click("#player-in")
        page.wait_for_function(
            "() => document.querySelector('#player-time').dataset.frame === '22'"
        )
        page.wait_for_function(
            "() => document.querySelector('#pick-note').textContent.includes('frames before the in point')"
        )
        assert _frame(page) == 22
        layer = page.locator("#pick-layer")
        lbox = layer.bounding_box() or page.locator("#player-screen").bounding_box()
        assert lbox is not None
        page.wait_for_timeout(500)  # the debounced question for this frame is answered
        rect = page.evaluate(
            "(() => { const r = document.querySelector('#player-screen').getBoundingClientRect();"
            " return [r.x, r.y, r.width, r.height]; })()"
        )
        # the picture is 480 x 240 shown "contain"ed: the click at 30 % across, half way down
        x0, y0, w, h = rect
        shown_w, shown_h = (w, w / 2) if w / 2 <= h else (h * 2, h)
        left, top = x0 + (w - shown_w) / 2, y0 + (h - shown_h) / 2
        page.mouse.click(left + 0.3 * shown_w, top + 0.5 * shown_h)
        point = page.locator(".effect-card[data-effect=matte] [data-name=point] input")
        page.wait_for_function(
            "() => document.querySelector('.effect-card[data-effect=matte] [data-name=point] input').value !== ''"
        )
        x, y = (float(v) for v in point.input_value().split(","))
        assert abs(x - (0.3 * 480 - 0.5) / 479) < 0.01 and abs(y - 0.5) < 0.01
        page.wait_for_selector(".pick-dot")
        note = page.inner_text("#pick-note")
        assert "point set" in note
        _part(page, "#player", "pick-matte.png")
        assert page.noise == []
