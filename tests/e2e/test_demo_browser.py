"""The demo in a real browser: headless Chromium driven by Playwright against ``live_server``.

Uses Debian's ``/usr/bin/chromium`` (or ``MINDLENS_CHROMIUM``); never downloads a
browser. Saves its screenshots into tmp (the README's comes from test_shipped_demo_browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEXT = (
    "Every true patriot will stand with us on this. "
    "The committee will publish its report on Tuesday. Make our streets safe again!"
)
TIMEOUT_MS = 30_000
FIRST_LOAD_MS = 120_000  # the first page load starts Gradio's front end and analyses the example; slow on a busy 2-core box


def _fragment_count(page: Any) -> int:
    match = re.search(r"(\d+) fragments?,", page.inner_text("#ml-summary"))
    assert match, page.inner_text("#ml-summary")
    return int(match.group(1))


def _set_slider(page: Any, value: float) -> None:
    box = page.locator("#ml-slider input[type=number]")
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_selector(f"#ml-summary:has-text('confidence ≥ {value:.2f}')", timeout=TIMEOUT_MS)


def test_demo_in_chromium(live_server: str, browser_context: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser_context.new_page()
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(live_server) or r.url.startswith("data:") else external.append(r.url)
        ),
    )
    page.goto(f"{live_server}/demo/")
    page.wait_for_selector("#ml-summary:has-text('sentences flagged')", timeout=FIRST_LOAD_MS)

    _set_slider(page, 0.0)
    page.locator("#ml-text textarea").fill(TEXT)
    page.locator("#ml-analyze").click()
    page.wait_for_selector("#ml-summary:has-text('of 3 sentences')", timeout=TIMEOUT_MS)

    marked = page.locator("#ml-highlights .text:not(.unlabeled)")
    expect(marked.first).to_be_visible()
    assert "Make our streets safe again!" in page.inner_text("#ml-highlights")
    expect(page.locator("#ml-traits meter").first).to_be_visible()  # trait bars
    expect(page.locator("#ml-details")).to_contain_text("Every true patriot will stand with us")
    all_fragments = _fragment_count(page)
    assert all_fragments >= 3

    _set_slider(page, 0.95)  # filters the kept result; the model is not called again
    assert _fragment_count(page) < all_fragments
    assert external == [], f"the page called outside the server: {external}"

    page.locator("#ml-example input").click()  # an example article loads and is analysed
    page.get_by_role("option", name="Opinion column").click()
    page.wait_for_selector("#ml-summary:has-text('disaster in disguise')", timeout=TIMEOUT_MS)
    _set_slider(page, 0.3)
    out_dir = tmp_path  # the README's screenshot shows the shipped champion (test_shipped_demo_browser.py)
    page.screenshot(path=str(out_dir / "demo.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(tmp_path / "demo-phone.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page scrolls sideways on a phone: {overflow}px wide"
    assert (out_dir / "demo.png").stat().st_size > 10_000


def test_demo_feedback_in_chromium(live_server: str, browser_context: Any, tmp_path: Path) -> None:
    """Confirm a fragment, add a missed one by selecting it, judge, send: acknowledged and stored."""
    from playwright.sync_api import expect

    from mindlens.config import get_settings
    from mindlens.feedback import FeedbackStore

    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the controls must work there
    page.goto(f"{live_server}/demo/")
    page.wait_for_selector("#ml-summary:has-text('sentences flagged')", timeout=FIRST_LOAD_MS)
    page.locator("#ml-text textarea").fill(TEXT)
    page.locator("#ml-analyze").click()
    page.wait_for_selector("#ml-summary:has-text('of 3 sentences')", timeout=TIMEOUT_MS)
    _set_slider(page, 0.0)

    first = page.locator("#ml-verdict-0")  # one control per fragment shown
    expect(first).to_be_visible(timeout=TIMEOUT_MS)
    label = first.locator("label, [data-testid='block-info']").first.inner_text()
    first.locator("input").click()
    page.get_by_role("option", name="Right", exact=True).click()
    expect(page.locator("#ml-feedback-pending")).to_contain_text("✓", timeout=TIMEOUT_MS)

    start = TEXT.index("The committee")
    end = TEXT.index("Tuesday.") + len("Tuesday.")
    textarea = page.locator("#ml-text textarea")  # select the missed fragment in the text box
    textarea.evaluate(
        "(el, [s, e]) => { el.focus(); el.setSelectionRange(s, e); "
        "el.dispatchEvent(new Event('select', {bubbles: true})); }",
        [start, end],
    )
    expect(page.locator("#ml-add-end input")).to_have_value(str(end), timeout=TIMEOUT_MS)
    assert page.locator("#ml-add-start input").input_value() == str(start)
    page.locator("#ml-add-technique input").click()
    page.get_by_role("option", name="Doubt", exact=True).click()
    page.locator("#ml-add").click()
    expect(page.locator("#ml-feedback-pending")).to_contain_text("is Doubt (missed)", timeout=TIMEOUT_MS)

    page.locator("#ml-judgement").get_by_text("Manipulative", exact=True).click()
    page.locator("#ml-comment textarea").fill("checked in Chromium")
    page.locator("#ml-send").click()
    ack = page.locator("#ml-feedback-ack")
    expect(ack).to_contain_text("stored (2 corrections)", timeout=TIMEOUT_MS)
    match = re.search(r"feedback #(\d+)", ack.inner_text())
    assert match, ack.inner_text()
    page.screenshot(path=str(tmp_path / "demo-feedback-phone.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"the feedback controls scroll sideways on a phone: {overflow}px wide"

    store = FeedbackStore(str(get_settings().feedback.database_url))  # the server's database
    record = store.get(int(match.group(1)))
    store.close()
    assert record is not None and record.text == TEXT and record.judgement == "manipulative"
    assert record.comment == "checked in Chromium" and record.request_id
    actions = {c["action"]: c for c in record.corrections}
    assert set(actions) == {"confirm", "add"}
    assert actions["add"] == {"action": "add", "start": start, "end": end, "technique": "doubt"}
    confirmed = actions["confirm"]
    assert TEXT[confirmed["start"] : confirmed["end"]] in label  # the fragment the control named
