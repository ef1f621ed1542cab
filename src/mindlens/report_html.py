"""What turns nbconvert's HTML of an executed notebook into a report a person reads: a header
(model, data hash, date, MLflow run), a table of contents from the markdown headings and a
list of the other reports logged to the same MLflow run.

Pure string functions (no nbconvert, no MLflow) so they are unit-tested on their own;
``mindlens.notebooks`` gathers the facts and calls them.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# nbconvert gives every markdown heading an id and a "¶" anchor link (filters.add_anchor).
_HEADING = re.compile(r'<h([1-3])\b[^>]*?\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_OPEN_MAIN, _OPEN_BODY = re.compile(r"<main\b[^>]*>"), re.compile(r"<body\b[^>]*>")
RUN_REPORTS_START, RUN_REPORTS_END = "<!-- mindlens:run-reports -->", "<!-- /mindlens:run-reports -->"
_RUN_REPORTS = re.compile(re.escape(RUN_REPORTS_START) + ".*?" + re.escape(RUN_REPORTS_END), re.DOTALL)

_STYLE = """<style>
.mindlens-report-header { margin: 0 0 1.5em; padding: 0.8em 1em; border: 1px solid #d0d7de;
  border-radius: 6px; background: #f6f8fa; font-size: 0.9em; }
.mindlens-report-header table { border-collapse: collapse; margin-bottom: 0.6em; }
.mindlens-report-header th { text-align: left; padding: 0.15em 1em 0.15em 0; color: #57606a; }
.mindlens-report-header td { padding: 0.15em 0; font-family: monospace; }
.mindlens-report-header nav ul { margin: 0.2em 0; }
</style>"""


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class RunReport:
    """Another report of the same MLflow run: ``file`` sits beside this one in the run's
    ``reports/`` artifact folder, so a relative link works wherever that folder is opened."""

    notebook: str
    file: str
    uri: str  # runs:/<run id>/reports/<file>, for the MLflow client or UI


def headings(body: str, max_level: int = 3) -> list[Heading]:
    """The markdown headings (h1 to ``max_level``) with their anchors, in document order."""
    found = []
    for level, anchor, inner in _HEADING.findall(body):
        text = html_lib.unescape(_TAG.sub("", inner)).replace("¶", "").strip()
        if int(level) <= max_level and text:
            found.append(Heading(int(level), html_lib.unescape(anchor), text))
    return found


def table_of_contents(body: str) -> str:
    """A nested-by-indent list of links to the h2/h3 sections (the h1 is the title)."""
    items = [
        f'<li style="margin-left:{(h.level - 2) * 1.5}em"><a href="#{html_lib.escape(h.anchor)}">'
        f"{html_lib.escape(h.text)}</a></li>"
        for h in headings(body)
        if h.level >= 2
    ]
    return f'<nav class="mindlens-toc"><b>Contents</b><ul>{"".join(items)}</ul></nav>' if items else ""


def run_reports_block(reports: Sequence[RunReport]) -> str:
    """The marked "other reports of this run" list; empty markers when there are none."""
    if not reports:
        return RUN_REPORTS_START + RUN_REPORTS_END
    items = "".join(
        f'<li><a href="{html_lib.escape(r.file)}">{html_lib.escape(r.notebook)}</a> '
        f"<code>{html_lib.escape(r.uri)}</code></li>"
        for r in reports
    )
    return (
        f'{RUN_REPORTS_START}<nav class="mindlens-run-reports"><b>Other reports of this run</b>'
        f"<ul>{items}</ul></nav>{RUN_REPORTS_END}"
    )


def set_run_reports(body: str, reports: Sequence[RunReport]) -> str:
    """Replace the run-reports list of a decorated report (a no-op on an undecorated page)."""
    return _RUN_REPORTS.sub(lambda _: run_reports_block(reports), body, count=1)


def decorate(body: str, header: Mapping[str, str], reports: Sequence[RunReport] = ()) -> str:
    """Insert the header table, the table of contents and the run-reports list at the top of
    the page (inside ``<main>``, else right after ``<body>``)."""
    rows = "".join(
        f"<tr><th>{html_lib.escape(k)}</th><td>{html_lib.escape(v)}</td></tr>" for k, v in header.items()
    )
    block = (
        f'{_STYLE}<div class="mindlens-report-header"><table>{rows}</table>'
        f"{table_of_contents(body)}{run_reports_block(reports)}</div>"
    )
    match = _OPEN_MAIN.search(body) or _OPEN_BODY.search(body)
    at = match.end() if match else 0
    return body[:at] + block + body[at:]
