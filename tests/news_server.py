"""A local news site for the URL-analysis tests: saved pages (``tests/data/news_pages/``) and
misbehaving ones, served by ``http.server`` on 127.0.0.1 in a thread. No real site is ever
contacted.

Paths: ``/article`` and ``/no-article`` (the saved pages), ``/slow`` (answers after
``SLOW_S``), ``/trickle`` (a byte every 0.2 s), ``/big`` (``BIG_BYTES`` without a length),
``/big-declared`` (a Content-Length over any limit, no body), ``/pdf`` (not HTML), ``/gone``
(404), ``/redirect?to=URL`` (302 to URL), ``/loop`` (redirects to itself). ``hits`` records
every path asked for (to prove a refused URL was never fetched).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent / "data" / "news_pages"
SLOW_S = 3.0
BIG_BYTES = 3_000_000


@dataclass
class NewsSite:
    base: str
    port: int
    hits: list[str] = field(default_factory=list)


def _handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the client gave up (a timeout test): expected
                pass

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            site.hits.append(parts.path)
            path = parts.path
            if path == "/article":
                self._send(200, (PAGES / "article.html").read_bytes())
            elif path == "/no-article":
                self._send(200, (PAGES / "no_article.html").read_bytes())
            elif path == "/slow":
                time.sleep(SLOW_S)
                self._send(200, (PAGES / "article.html").read_bytes())
            elif path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"<p>")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:  # the client gave up: expected
                    pass
            elif path == "/big":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"word " * 2000 + b"</p>\n"
                try:
                    for _ in range(BIG_BYTES // len(chunk) + 1):
                        self.wfile.write(chunk)
                except OSError:
                    pass
            elif path == "/big-declared":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(50 * BIG_BYTES))
                self.end_headers()
            elif path == "/pdf":
                self._send(200, b"%PDF-1.7 not a web page", "application/pdf")
            elif path == "/redirect":
                self._redirect(parse_qs(parts.query)["to"][0])
            elif path == "/loop":
                self._redirect("/loop")
            else:
                self._send(404, b"<h1>Not found</h1>")

    return Handler


@contextmanager
def news_site() -> Iterator[NewsSite]:
    """The site on a free loopback port, for the length of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    port = server.server_address[1]
    site = NewsSite(f"http://127.0.0.1:{port}", int(port))
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, name="news-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
