"""The shipped champion (V2) served as a fresh user gets it, on a real news article, in a
real browser.

A private state folder gets the shipped releases through ``mindlens registry bootstrap`` (what ``make run``
does), ``mindlens serve`` serves it, and headless Chromium analyses a PTC test-set article
(text only, never trained on) in the demo. With MINDLENS_UPDATE_SCREENSHOT=1 the
screenshot becomes the README's docs/demo.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, data_dir, free_port, start_server, stop_process, wait_for_http
from test_demo_browser import FIRST_LOAD_MS, TIMEOUT_MS, _fragment_count, _set_slider

from mindlens.training.release import SHIPPED, read_release

pytestmark = pytest.mark.slow

ARTICLE_CHARS = (900, 2200)  # a whole article that fits one screenshot


def real_article() -> str:
    """The first PTC test-set article (sorted by id) of screenshot size: title line, blank
    line, one sentence per line, exactly as published."""
    folder = data_dir() / "ptc-semeval2020-task11" / "datasets" / "test-articles"
    if not folder.is_dir():
        pytest.skip(f"no PTC test articles in {folder}: set MINDLENS_DATA_DIR")
    for path in sorted(folder.glob("article*.txt")):
        text = path.read_text(encoding="utf-8")
        if ARTICLE_CHARS[0] <= len(text) <= ARTICLE_CHARS[1]:
            return text
    pytest.skip("no PTC test article of screenshot size")


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a fresh registry holding only the bootstrapped releases (V2 champion)."""
    state = tmp_path_factory.mktemp("shipped-state")
    env = os.environ | {"MINDLENS_STATE_DIR": str(state)}
    subprocess.run(
        [sys.executable, "-m", "mindlens.cli", "registry", "bootstrap"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    with open(state / "server.log", "w") as log:
        process = start_server(port, env, log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/readyz", process=process)
            yield base
        finally:
            stop_process(process)


def test_v2_answers_with_every_head(shipped_server: str) -> None:
    """V2 is the champion, finds fragments with the TC model's opinions and scores the title."""
    article = real_article()
    assert httpx.get(f"{shipped_server}/version").json()["semver"] == read_release(SHIPPED)["version"]
    body = httpx.post(f"{shipped_server}/analyze", json={"text": article}, timeout=60).json()
    assert body["spans"], "V2 found nothing in a news article"
    for span in body["spans"]:
        assert article[span["start"] : span["end"]] == span["text"]
        assert span["tc_confidence"] is not None and 0.0 <= span["tc_confidence"] <= 1.0
    assert body["title"]["text"] == article.splitlines()[0].strip()
    assert body["title"]["clickbait"] is not None


def test_v2_demo_on_a_real_article(shipped_server: str, browser_context: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    article = real_article()
    page = browser_context.new_page()
    page.goto(f"{shipped_server}/demo/")
    page.wait_for_selector("#ml-summary:has-text('sentences flagged')", timeout=FIRST_LOAD_MS)
    page.locator("#ml-text textarea").fill(article)
    page.locator("#ml-analyze").click()
    title = article.splitlines()[0].strip()
    expect(page.locator("#ml-summary")).to_contain_text(f"Title scored: “{title}”", timeout=TIMEOUT_MS)
    expect(page.locator("#ml-highlights .text:not(.unlabeled)").first).to_be_visible()
    expect(page.locator("#ml-traits meter").first).to_be_visible()
    _set_slider(page, 0.5)
    assert _fragment_count(page) >= 1
    out_dir = ROOT / "docs" if os.environ.get("MINDLENS_UPDATE_SCREENSHOT") == "1" else tmp_path
    page.screenshot(path=str(out_dir / "demo.png"), full_page=True)
    assert (out_dir / "demo.png").stat().st_size > 10_000
