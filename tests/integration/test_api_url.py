"""``POST /analyze`` with a ``url`` and the landing page ``GET /``, over real HTTP against
``mindlens serve`` (``live_server``: loopback 127.0.0.1/32 allowed, 1.5 s fetch deadline,
1 MB pages), fetching from a local news site (``tests/news_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from news_server import NewsSite, news_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with news_site() as site:
        yield site


def _error(response: httpx.Response, status: int, needle: str) -> dict:
    """The API's error shape: ``{"detail": str}`` (422s of the schema add ``errors``)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and "Traceback" not in response.text
    assert needle in body["detail"], body["detail"]
    return body


def test_a_url_is_fetched_extracted_and_analysed(api: httpx.Client, site: NewsSite) -> None:
    url = f"{site.base}/redirect?to=/article"
    response = api.post("/analyze", json={"url": url, "min_confidence": 0.1})
    assert response.status_code == 200, response.text
    body = response.json()
    source = body["source"]
    assert source["url"] == url and source["final_url"] == f"{site.base}/article"
    assert source["title"] == "Council votes on the harbour plan as protests grow"
    assert source["fetched_at"].endswith(("Z", "+00:00"))
    text = source["text"]
    assert "Stop the sell-out! Save our harbour!" in text and "All rights reserved" not in text
    # the analysis is of that text: every offset indexes it, the page's title is the headline
    assert body["sentences"] and body["title"]["text"] == source["title"]
    for part in body["sentences"] + body["spans"]:
        assert text[part["start"] : part["end"]] == part["text"]
    assert body["model"]["version"] == api.get("/version").json()["model"]["version"]
    assert body["document"]["score"] > 0  # "traitors", the slogans: the article is not neutral
    # a text analysis says nothing about a source
    assert api.post("/analyze", json={"text": "Calm news."}).json()["source"] is None


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/no-article", 422, "no article found"),
        ("/slow", 422, "longer than 1.5 s"),
        ("/big", 413, "too large"),
        ("/pdf", 415, "not an HTML page"),
        ("/gone", 422, "answered HTTP 404"),
        ("/redirect?to=http://169.254.169.254/latest/meta-data/", 422, "link-local address"),
        ("/redirect?to=http://127.0.0.2/", 422, "loopback address"),
    ],
)
def test_unusable_pages_are_clear_4xx(
    api: httpx.Client, site: NewsSite, path: str, status: int, needle: str
) -> None:
    _error(api.post("/analyze", json={"url": f"{site.base}{path}"}), status, needle)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"url": "file:///etc/passwd"}, "only http and https"),
        ({"url": "http://10.0.0.1/"}, "private address"),
        ({"url": "not a url"}, "without a scheme"),
        ({"url": ""}, "url is empty"),
        ({"text": "Some text.", "url": "https://example.org/a"}, "exactly one of text"),
        ({"min_confidence": 0.5}, "exactly one of text"),
        ({"url": 42}, "url"),
    ],
)
def test_bad_url_requests_are_422(api: httpx.Client, payload: dict, needle: str) -> None:
    _error(api.post("/analyze", json=payload), 422, needle)


def test_url_errors_are_counted(api: httpx.Client, site: NewsSite) -> None:
    def count() -> float:
        for line in api.get("/metrics").text.splitlines():
            if line.startswith('mindlens_errors_total{type="url_source"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = count()
    api.post("/analyze", json={"url": f"{site.base}/no-article"})
    assert count() == before + 1


def test_the_landing_page(api: httpx.Client) -> None:
    response = api.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    model = api.get("/version").json()["model"]
    assert f"<strong>{model['name']}</strong> version <strong>{model['version']}</strong>" in page
    for href in ("/demo/", "/docs", "/metrics", "/healthz", "/readyz"):
        assert f'href="{href}"' in page
        assert api.get(href).status_code == 200, href  # every link works
    head = api.head("/")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html")
    assert head.content == b""


def test_the_demo_analyses_a_url(live_server: str, site: NewsSite) -> None:
    """The demo's URL box: the same analysis service; the text and title boxes then hold the
    article that was analysed, and the summary says where it came from."""
    from gradio_client import Client

    demo = Client(f"{live_server}/demo/", verbose=False)
    highlighted, details, _counts, _traits, _clickbait, summary, text, title = demo.predict(
        f"{site.base}/article", 0.0, api_name="/analyze_url"
    )
    assert title == "Council votes on the harbour plan as protests grow"
    assert "Stop the sell-out! Save our harbour!" in text and "Log in" not in text
    assert f"From `{site.base}/article`" in summary
    rows = details["data"] if isinstance(details, dict) else details
    assert rows and all(text[start:end] == fragment for start, end, fragment, *_ in rows)
    # the slider re-filters the fetched article's kept result like a pasted text's
    *_, refiltered = demo.predict(1.0, api_name="/filter")
    assert "0 fragments" in refiltered and f"From `{site.base}/article`" in refiltered
