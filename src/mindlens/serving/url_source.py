"""Text from a web page: fetch a URL safely and extract its article's title and main text.

``fetch_article(url, settings.url_fetch)`` is MindLens's one way onto the web (``POST /analyze``
with ``url`` and the demo's URL box). The server opens the connection, not the client, so the
fetch must not become a way into the server's own network (SSRF):

- only ``http``/``https`` URLs without credentials;
- the host is resolved here and *every* address it resolves to must be public (not loopback,
  private, link-local, multicast, reserved, ...) or inside ``url_fetch.allowed_networks``; the
  connection then goes to the checked address itself (``Host`` and TLS SNI keep the name), so a
  second DNS answer cannot swap in another one;
- redirects are followed by hand, each new location checked the same way, at most
  ``max_redirects`` of them; no proxy from the environment is used;
- one deadline (``timeout_s``) covers resolving, connecting, redirects and the body; the body
  (decompressed) may not exceed ``max_bytes``; only HTML is read.

The article is extracted with trafilatura (imported on first use: it pulls in lxml and friends,
which nothing else on the serving path needs), and cleaned by the input-hygiene rule
(``preprocessing.hygiene.strip_disallowed``). Failures are ``UrlSourceError``s with a message for
the client; ``serving.errors`` maps them to 4xx answers.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from mindlens.config import UrlFetchSettings
from mindlens.preprocessing.hygiene import strip_disallowed

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_URL_CHARS = 2048

# getaddrinfo has no timeout of its own: it runs here so the deadline can give up on it.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mindlens-resolve")


class UrlSourceError(ValueError):
    """A URL that cannot be analysed; the message says why (it is the client's answer)."""


class UrlRejectedError(UrlSourceError):
    """Not a URL MindLens may fetch: bad syntax, scheme, credentials, a disallowed address (422)."""


class UrlFetchError(UrlSourceError):
    """The page could not be fetched: unknown host, refused connection, an HTTP error (422)."""


class UrlTimeoutError(UrlFetchError):
    """The fetch took longer than ``url_fetch.timeout_s`` (422)."""


class PageTooLargeError(UrlSourceError):
    """The page's body is over ``url_fetch.max_bytes`` (413)."""


class NotHtmlError(UrlSourceError):
    """The URL serves something other than an HTML page (415)."""


class NoArticleError(UrlSourceError):
    """The page holds no article text to analyse (422)."""


@dataclass(frozen=True)
class Article:
    """An extracted article and where it came from."""

    url: str  # as asked
    final_url: str  # after redirects
    title: str | None
    text: str
    fetched_at: datetime

    def source(self) -> dict[str, Any]:
        """The ``source`` of an /analyze answer (``text``: the analysed text, which the offsets index)."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "title": self.title,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds"),
            "text": self.text,
        }


# --- checking URLs and addresses ---------------------------------------------------------------
def check_url(url: str) -> httpx.URL:
    """``url`` parsed, or ``UrlRejectedError`` saying what is wrong with it."""
    if len(url) > MAX_URL_CHARS:
        raise UrlRejectedError(f"url is too long: {len(url)} characters, the limit is {MAX_URL_CHARS}")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise UrlRejectedError(
            f"not a valid URL ({err}): send e.g. https://example.org/news/article"
        ) from None
    if parsed.scheme not in ("http", "https"):
        raise UrlRejectedError(
            f"only http and https URLs can be analysed, not {parsed.scheme + ':' if parsed.scheme else 'a URL without a scheme'} "
            "(send e.g. https://example.org/news/article)"
        )
    if not parsed.host:
        raise UrlRejectedError("the URL has no host name (send e.g. https://example.org/news/article)")
    if parsed.userinfo:
        raise UrlRejectedError("URLs with a user name or password are not accepted")
    return parsed


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the server may not connect to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for check, what in (
        ("is_unspecified", "an unspecified"),
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(address, check):
            return f"{what} address"
    if not address.is_global:
        return "a non-public address"
    return None


def resolve(host: str, port: int, deadline: float) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (an IP literal: itself), within the deadline."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(deadline - time.monotonic(), 0.001))
    except FutureTimeout:
        raise UrlTimeoutError(f"resolving {host} took too long") from None
    except (OSError, UnicodeError) as err:
        raise UrlFetchError(
            f"cannot resolve the host {host!r} ({getattr(err, 'strerror', None) or err})"
        ) from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # drop an IPv6 scope
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlFetchError(f"the host {host!r} has no address")
    return addresses


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_address(
    url: httpx.URL, config: UrlFetchSettings, deadline: float
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address to connect to for ``url``: every one its host resolves to is checked, and
    one disallowed address refuses the URL (whichever the connection would have used)."""
    host = url.host
    if not config.public and not _is_ip_literal(host) and host.lower() != "localhost":
        raise UrlRejectedError(
            f"{host}: this server fetches only its allowed networks (url_fetch.public is off)"
        )
    addresses = resolve(host, url.port or (443 if url.scheme == "https" else 80), deadline)
    allowed = [ipaddress.ip_network(network, strict=False) for network in config.allowed_networks]
    for address in addresses:
        if any(address in network for network in allowed):
            continue
        problem = address_problem(address)
        if problem is not None:
            where = (
                f"{host} is {problem}"
                if host == str(address)
                else f"{host} resolves to {problem} ({address})"
            )
            raise UrlRejectedError(f"{where}: MindLens fetches only public addresses")
        if not config.public:
            raise UrlRejectedError(
                f"{host} ({address}) is outside url_fetch.allowed_networks (url_fetch.public is off)"
            )
    return addresses[0]


# --- fetching ------------------------------------------------------------------------------------
def _remaining(deadline: float, config: UrlFetchSettings) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise UrlTimeoutError(f"fetching the page took longer than {config.timeout_s:g} s")
    return left


def _open(client: httpx.Client, url: httpx.URL, config: UrlFetchSettings, deadline: float) -> httpx.Response:
    """Send a GET for ``url`` to its checked address, streaming (the body is read separately)."""
    address = allowed_address(url, config, deadline)
    pinned = url.copy_with(host=str(address))
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    request = client.build_request(
        "GET",
        pinned,
        headers={"Host": host_header},
        timeout=httpx.Timeout(_remaining(deadline, config)),
        extensions=extensions,
    )
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException:
        raise UrlTimeoutError(f"fetching the page took longer than {config.timeout_s:g} s") from None
    except httpx.HTTPError as err:
        raise UrlFetchError(f"could not fetch {url} ({type(err).__name__}: {err})") from None


def _read_body(response: httpx.Response, url: httpx.URL, config: UrlFetchSettings, deadline: float) -> bytes:
    limit = config.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PageTooLargeError(
            f"the page at {url} is too large: {int(declared):,} bytes, the limit is {limit:,}"
        )
    body = bytearray()
    try:
        for chunk in response.iter_bytes():  # decompressed: the limit holds for what is kept
            body += chunk
            if len(body) > limit:
                raise PageTooLargeError(f"the page at {url} is too large: over {limit:,} bytes")
            _remaining(deadline, config)  # a slow trickle ends at the deadline too
    except httpx.TimeoutException:
        raise UrlTimeoutError(f"fetching the page took longer than {config.timeout_s:g} s") from None
    except httpx.HTTPError as err:
        raise UrlFetchError(f"could not read {url} ({type(err).__name__}: {err})") from None
    return bytes(body)


@dataclass(frozen=True)
class Page:
    url: str
    final_url: str
    body: bytes
    charset: str | None


def fetch_page(url: str, config: UrlFetchSettings) -> Page:
    """The HTML page at ``url`` (after redirects), under the checks of the module docstring."""
    if not config.enabled:
        raise UrlRejectedError(
            "analysing URLs is turned off on this server (url_fetch.enabled); send the text"
        )
    deadline = time.monotonic() + config.timeout_s
    current = check_url(url)
    headers = {"User-Agent": config.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
    with httpx.Client(headers=headers, follow_redirects=False, trust_env=False) as client:
        for hop in range(config.max_redirects + 1):
            try:
                response = _open(client, current, config, deadline)
            except UrlRejectedError as err:
                if hop == 0:
                    raise
                raise UrlRejectedError(
                    f"{url} redirects to {current}, which MindLens may not fetch: {err}"
                ) from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    try:
                        current = check_url(str(current.join(location)))
                    except UrlRejectedError as err:
                        raise UrlRejectedError(
                            f"{current} redirects to a URL MindLens may not fetch: {err}"
                        ) from None
                    continue
                if response.status_code >= 400:
                    raise UrlFetchError(
                        f"{current} answered HTTP {response.status_code} {response.reason_phrase}"
                    )
                media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if media_type and media_type not in HTML_TYPES:
                    raise NotHtmlError(f"{current} is not an HTML page (content type {media_type})")
                body = _read_body(response, current, config, deadline)
                return Page(url, str(current), body, response.charset_encoding)
            finally:
                response.close()
    raise UrlFetchError(f"{url} redirects more than {config.max_redirects} times")


# --- extracting ------------------------------------------------------------------------------------
def extract_article(page: Page, min_chars: int = 200) -> tuple[str | None, str]:
    """(title, main text) of the page's article; ``NoArticleError`` if it has none (less than
    ``min_chars`` of main text)."""
    import trafilatura  # lazy: heavy, and needed only for URL analyses

    html: str | bytes = page.body
    if page.charset:
        try:
            html = page.body.decode(page.charset, errors="replace")
        except LookupError:  # an unknown charset name: let trafilatura detect it
            pass
    document = trafilatura.bare_extraction(
        html,
        url=page.final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        deduplicate=True,
    )
    text = strip_disallowed(getattr(document, "text", None) or "").strip()
    if len(text) < min_chars:  # trafilatura returns whatever text it finds: menus, form labels
        found = f"only {len(text)} characters of text" if text else "no text"
        raise NoArticleError(
            f"no article found at {page.final_url} ({found}; an article has at least {min_chars}): "
            "send the text itself instead"
        )
    title = strip_disallowed(getattr(document, "title", None) or "").strip() or None
    return title, text


def fetch_article(url: str, config: UrlFetchSettings) -> Article:
    """Fetch ``url`` and extract its article (title, main text), or raise a ``UrlSourceError``."""
    page = fetch_page(url, config)
    title, text = extract_article(page, config.min_article_chars)
    return Article(page.url, page.final_url, title, text, datetime.now(UTC))
