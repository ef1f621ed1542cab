"""``serving.url_source``: fetching a page safely and extracting its article, against a local
news site on 127.0.0.1 (``tests/news_server.py``; no real site is contacted)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from news_server import PAGES, NewsSite, news_site

from mindlens.config import UrlFetchSettings
from mindlens.preprocessing.hygiene import strip_disallowed, text_problem
from mindlens.serving import url_source
from mindlens.serving.url_source import (
    NoArticleError,
    NotHtmlError,
    PageTooLargeError,
    UrlFetchError,
    UrlRejectedError,
    UrlTimeoutError,
    address_problem,
    check_url,
    fetch_article,
)

LOOPBACK = UrlFetchSettings(allowed_networks=["127.0.0.1/32"], timeout_s=1.0, max_bytes=1_000_000)


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with news_site() as site:
        yield site


def test_an_article_page_gives_its_title_and_main_text(site: NewsSite) -> None:
    article = fetch_article(f"{site.base}/article", LOOPBACK)
    assert article.title == "Council votes on the harbour plan as protests grow"
    assert "traitors to every family" in article.text
    assert "Stop the sell-out! Save our harbour!" in article.text
    # the page's navigation, ads, sidebar and footer are not the article
    for chrome in ("Log in", "subscribe now", "Five recipes", "All rights reserved"):
        assert chrome not in article.text
    assert article.url == article.final_url == f"{site.base}/article"
    source = article.source()
    assert source["text"] == article.text and source["fetched_at"].endswith("+00:00")


def test_redirects_are_followed_and_the_final_url_reported(site: NewsSite) -> None:
    article = fetch_article(f"{site.base}/redirect?to=/article", LOOPBACK)
    assert article.url == f"{site.base}/redirect?to=/article"
    assert article.final_url == f"{site.base}/article"


def test_a_page_without_an_article_is_refused(site: NewsSite) -> None:
    with pytest.raises(NoArticleError, match=r"no article found at .*/no-article \(only \d+ characters"):
        fetch_article(f"{site.base}/no-article", LOOPBACK)


def test_a_slow_page_times_out_at_the_limit(site: NewsSite) -> None:
    started = time.monotonic()
    with pytest.raises(UrlTimeoutError, match="longer than 1 s"):
        fetch_article(f"{site.base}/slow", LOOPBACK)
    assert time.monotonic() - started < 2.5  # the slow page answers after 3 s


def test_a_trickling_body_ends_at_the_deadline_too(site: NewsSite) -> None:
    """Every read gets a byte in time; the deadline still covers the whole body."""
    started = time.monotonic()
    with pytest.raises(UrlTimeoutError):
        fetch_article(f"{site.base}/trickle", LOOPBACK)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_a_page_over_the_size_limit_is_refused(site: NewsSite, path: str) -> None:
    with pytest.raises(
        PageTooLargeError, match="too large.*the limit is 1,000,000|too large: over 1,000,000"
    ):
        fetch_article(f"{site.base}{path}", LOOPBACK)


def test_not_html_and_http_errors_are_refused(site: NewsSite) -> None:
    with pytest.raises(NotHtmlError, match="not an HTML page.*application/pdf"):
        fetch_article(f"{site.base}/pdf", LOOPBACK)
    with pytest.raises(UrlFetchError, match="answered HTTP 404"):
        fetch_article(f"{site.base}/gone", LOOPBACK)
    with pytest.raises(UrlFetchError, match="redirects more than 5 times"):
        fetch_article(f"{site.base}/loop", LOOPBACK)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("http://127.0.0.2:{port}/article", "loopback address"),  # loopback, outside the allowed /32
        ("http://169.254.169.254/latest/meta-data/", "link-local address"),  # cloud metadata
        ("http://10.0.0.7/admin", "private address"),
        ("http://[::1]:{port}/article", "loopback address"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_a_redirect_to_a_disallowed_address_is_refused_before_connecting(
    site: NewsSite, target: str, problem: str
) -> None:
    target = target.format(port=site.port)
    site.hits.clear()
    with pytest.raises(UrlRejectedError, match=problem):
        fetch_article(f"{site.base}/redirect?to={target}", LOOPBACK)
    assert site.hits == ["/redirect"]  # the redirect's target was never asked for


def test_loopback_is_refused_unless_configured(site: NewsSite) -> None:
    site.hits.clear()
    with pytest.raises(UrlRejectedError, match="127.0.0.1 is a loopback address"):
        fetch_article(f"{site.base}/article", UrlFetchSettings())
    assert site.hits == []
    with pytest.raises(UrlRejectedError, match="turned off"):
        fetch_article(f"{site.base}/article", UrlFetchSettings(enabled=False))


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("example.org/news", "without a scheme"),
        ("ftp://example.org/a", "not ftp:"),
        ("javascript:alert(1)", "not javascript:"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http:///nohost", "no host"),
        ("https://example.org/" + "a" * 3000, "too long"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, needle: str) -> None:
    with pytest.raises(UrlRejectedError, match=needle):
        check_url(url)


def test_every_resolved_address_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host with one public and one private address is refused, whichever comes first."""

    def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple]:
        answers = {"mixed.test": ["93.184.216.34", "10.1.2.3"], "public.test": ["93.184.216.34"]}
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(url_source.socket, "getaddrinfo", fake_getaddrinfo)
    deadline = time.monotonic() + 5
    with pytest.raises(UrlRejectedError, match=r"mixed.test resolves to a private address \(10.1.2.3\)"):
        url_source.allowed_address(check_url("http://mixed.test/a"), UrlFetchSettings(), deadline)
    address = url_source.allowed_address(check_url("http://public.test/a"), UrlFetchSettings(), deadline)
    assert str(address) == "93.184.216.34"
    allowed = UrlFetchSettings(allowed_networks=["10.0.0.0/8"])
    assert (
        str(url_source.allowed_address(check_url("http://mixed.test/a"), allowed, deadline))
        == "93.184.216.34"
    )


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped IPv6
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "a non-public address"),  # carrier-grade NAT
        ("224.0.0.1", "a multicast address"),
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_address_classes(address: str, problem: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == problem


def test_extracted_text_passes_the_input_hygiene_rule() -> None:
    dirty = "Breaking\x07 news\x00: a\ud800 story\x9f.\tTabs\nand newlines stay."
    clean = strip_disallowed(dirty)
    assert clean == "Breaking news: a story.\tTabs\nand newlines stay."
    assert text_problem(clean) is None
    body = "<html><body><article><h1>Title</h1>" + "<p>A sentence\x0b with a stray control.</p>" * 12
    page = url_source.Page("http://x/", "http://x/", (body + "</article></body></html>").encode(), "utf-8")
    title, text = url_source.extract_article(page, min_chars=100)
    assert "\x0b" not in text and text_problem(text) is None and "stray control" in text


def _self_signed(tmp_path: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` and its key (PEM files)."""
    x509 = pytest.importorskip("cryptography.x509", reason="cryptography makes the test certificate")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_goes_to_the_checked_address_and_still_verifies_the_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is pinned to the resolved (checked) address, yet TLS is verified for the
    URL's host name (SNI) and the server sees that name in Host: a certificate for another name fails."""
    import httpx

    cert, key = _self_signed(tmp_path, "news.test")
    page = (PAGES / "article.html").read_bytes()
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    real_getaddrinfo = socket.getaddrinfo

    def resolve_test_names(host: str, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".test"):  # both names point at the local server
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", args[0]))]
        return real_getaddrinfo(host, *args, **kwargs)

    trusting = ssl.create_default_context(cafile=str(cert))
    client = httpx.Client
    monkeypatch.setattr(url_source.socket, "getaddrinfo", resolve_test_names)
    monkeypatch.setattr(url_source.httpx, "Client", lambda **kw: client(verify=trusting, **kw))
    try:
        article = fetch_article(f"https://news.test:{port}/article", LOOPBACK)
        assert article.title == "Council votes on the harbour plan as protests grow"
        assert hosts == [f"news.test:{port}"]
        with pytest.raises(UrlFetchError, match="not valid for 'other.test'"):
            fetch_article(f"https://other.test:{port}/article", LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()


def test_a_second_dns_answer_cannot_swap_the_checked_address(
    site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name first resolves to the allowed address, then to a private one.
    The connection goes to the address that was checked, so the second answer is never used."""
    answers = iter(["127.0.0.1"] + ["10.255.255.1"] * 10)
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), args[0]))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(url_source.socket, "getaddrinfo", rebinding)
    article = fetch_article(f"http://rebind.test:{site.port}/article", LOOPBACK)
    assert article.final_url == f"http://rebind.test:{site.port}/article"
    assert next(answers) == "10.255.255.1"  # only the first answer was ever used


def test_with_public_off_nothing_leaves_the_machine(monkeypatch: pytest.MonkeyPatch, site: NewsSite) -> None:
    """The tests' setting: host names are refused before any DNS lookup, public addresses too."""

    def no_dns(*_: object, **__: object) -> list[tuple]:
        raise AssertionError("resolved a name although url_fetch.public is off")

    closed = UrlFetchSettings(public=False, allowed_networks=["127.0.0.1/32"], timeout_s=1.0)
    monkeypatch.setattr(url_source.socket, "getaddrinfo", no_dns)
    with pytest.raises(url_source.UrlRejectedError, match="url_fetch.public is off"):
        url_source.fetch_article("https://example.org/news/a.html", closed)
    with pytest.raises(url_source.UrlRejectedError, match="outside url_fetch.allowed_networks"):
        url_source.fetch_article("http://93.184.215.14/news/a.html", closed)
    monkeypatch.undo()
    assert url_source.fetch_article(f"{site.base}/article", closed).text
