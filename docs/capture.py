"""The README's screenshots and demo video, generated from the real UIs (never drawn by hand).

    python docs/capture.py mlflow|label-studio|report|video|all [--out docs] [--state DIR]

Each target starts what it shows on a free 127.0.0.1 port over a private state folder (a
temporary one unless ``--state``), drives it with Playwright in Debian's Chromium
(``/usr/bin/chromium`` or ``$MINDLENS_CHROMIUM``; never a downloaded browser) and stops it
again, also when a step fails:

- ``mlflow``: ``mindlens registry bootstrap`` (the shipped releases), a sampled dataset and
  two TF-IDF runs (``mindlens train``), the champion scored on the same split (``mindlens
  evaluate``); ``mlflow server`` on the state's SQLite store. Writes ``mlflow-runs.png``
  (the runs' main metrics side by side) and ``mlflow-registry.png`` (``mindlens-analyzer``:
  versions, semver tags, the ``champion`` alias).
- ``label-studio``: Label Studio 1.23 in its own venv (``mindlens.labelling.server``);
  ``mindlens labels push`` imports the curated examples and a PTC test-set article (its
  sentences on one line) pre-annotated by the shipped champion; ``label-studio.png`` is that
  task's labelling view.
- ``report``: the evaluation report ``mindlens evaluate`` writes (notebooks/evaluate.ipynb
  through papermill, decorated by ``mindlens.report_html``); ``evaluation-report.png`` is its
  top: header, contents, first plot.
- ``video``: ``mindlens serve`` with the shipped champion; a PTC test article is pasted into
  the demo, analysed, its fragments scrolled, the confidence filter moved, one fragment
  corrected and the feedback sent. Playwright records it (``record_video_dir``) and ffmpeg
  (Debian's) turns it into ``demo.gif`` (a palette GIF, about 3 MB) and a still,
  ``demo-poster.png``.

Needs the project's environment (``make install``), ``MINDLENS_DATA_DIR`` (default
../shared/datasets) and, for ``label-studio``, PyPI on first use (its venv is cached).
tests/e2e/test_capture.py runs the cheaper captures so CI notices when a UI changes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark() -> ModuleType:
    """benchmarks/load.py, whose server helpers (bootstrap, serve, stop) this reuses; one copy
    per process, under the name tests/reliability/live.py gives it."""
    name = "mindlens_load_benchmark"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "load.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


_load = _load_benchmark()
bootstrap, free_port, serve_env, served = _load.bootstrap, _load.free_port, _load.serve_env, _load.served
wait_http = _load.wait_http

os.environ.setdefault("MINDLENS_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
for _key, _value in {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}.items():
    os.environ.setdefault(_key, _value)

CHROMIUM = os.environ.get("MINDLENS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [  # the flags tests/conftest.py gives the browser tests: offline, no first-run work
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1360
SAMPLE_DOCUMENTS = 40  # per source and split: the TF-IDF runs and the evaluation take about 2 min
TFIDF_RUNS = (("tfidf-C1", "1.0", False), ("tfidf-C0.3", "0.3", True))  # name, C, via the notebook
# the runs' headline metrics, as one regular expression for MLflow's chart search box
RUN_METRICS = r"^val_(si_f1|flc_f1|tc_micro_f1|slc_f1|clickbait_f1|ece)$"
# MLflow's own front-end state: its assistant panel closed, the "model training" workflow
MLFLOW_LOCAL_STORAGE = {
    "mlflow.assistant.panelOpen_v1": "false",
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
    "mlflow.workflowType_v1": '"machine_learning"',
}
LS_USER, LS_PASSWORD = "admin@example.com", "admin-Passw0rd"  # a throwaway local instance
ARTICLE_CHARS = (900, 2200)  # a whole article the demo shows at once
GIF_FPS, GIF_WIDTH, GIF_COLORS = 5, 896, 64  # 0.8 of the recorded 1120 px: 2.8 MB for 75 s


class CaptureError(RuntimeError):
    """A step failed; the message says which and ends with the tail of its output."""


def log(message: str) -> None:
    print(f"[capture {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the state folder and the CLI steps that fill it ---------------------------------------


@dataclass
class Workspace:
    """A private state folder and the ``mindlens`` steps already run in it: each runs once,
    whichever targets need it, and a kept ``--state`` folder remembers them
    (``capture-steps.json``), so a second capture there only starts the servers."""

    state: Path

    @property
    def _steps_file(self) -> Path:
        return self.state / "capture-steps.json"

    @property
    def done(self) -> dict[str, str]:
        return json.loads(self._steps_file.read_text()) if self._steps_file.is_file() else {}

    @property
    def env(self) -> dict[str, str]:
        return serve_env(self.state)

    def mindlens(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
        """``python -m mindlens.cli ARGS`` in this state folder (``env`` added); its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "mindlens.cli", *args],
            env=self.env | (env or {}),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise CaptureError(f"mindlens {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-2000:]}")
        return done.stdout

    def _once(self, step: str, run: Callable[[], str]) -> str:
        done = self.done
        if step not in done:
            started = time.monotonic()
            log(f"{step} ...")
            done[step] = run()
            self._steps_file.write_text(json.dumps(done, indent=1))
            log(f"{step}: {time.monotonic() - started:.0f} s")
        return done[step]

    def bootstrap(self) -> None:
        """The shipped releases in the registry, the newest champion (``make run`` does this)."""
        self._once("registry bootstrap", lambda: bootstrap(self.env) or "the shipped releases")

    def train(self) -> None:
        """A sampled dataset and two cheap TF-IDF runs beside the releases, so the runs page
        has several models with the same metrics."""
        self.bootstrap()

        def run() -> str:
            self.mindlens("data", "prepare", "--max-documents", str(SAMPLE_DOCUMENTS))
            for name, c, notebook in TFIDF_RUNS:
                self.mindlens(
                    "train", "--model", "tfidf", "--name", name, "--param", f"C={c}",
                    "--notebook" if notebook else "--no-notebook",
                )  # fmt: skip
            return ", ".join(name for name, _, _ in TFIDF_RUNS)

        self._once("data prepare + TF-IDF runs", run)

    def evaluate(self) -> Path:
        """The champion scored on the sampled val split; the evaluation report's HTML."""
        self.train()

        def run() -> str:
            out = self.mindlens("evaluate")
            found = re.search(r"^evaluate report: (.+\.html)$", out, re.MULTILINE)
            if not found:
                raise CaptureError(f"mindlens evaluate named no evaluate report:\n{out[-2000:]}")
            return found.group(1)

        return Path(self._once("evaluate", run))


# --- servers and the browser ------------------------------------------------------------------


@contextmanager
def running(command: list[str], env: dict[str, str], health: str, log_path: Path) -> Iterator[None]:
    """``command`` in a process group of its own until the block ends (TERM, then KILL the
    group after 15 s: servers such as ``mlflow server`` start workers of their own)."""
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        try:
            wait_http(health, process, 120)
        except RuntimeError:
            raise CaptureError(f"{command[0]} exited ({process.returncode}):\n{_tail(log_path)}") from None
        except TimeoutError:
            raise CaptureError(f"{health} did not answer in 120 s:\n{_tail(log_path)}") from None
        yield
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # what is left of the group (workers)
    except ProcessLookupError:
        pass
    process.wait(timeout=15)


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else ""


def _debian_ffmpeg_for_playwright(folder: Path) -> None:
    """Playwright records video through an ffmpeg of its own download; point it at Debian's
    instead (``$PLAYWRIGHT_BROWSERS_PATH/ffmpeg-<revision>/ffmpeg-linux``; Chromium is ours too,
    so nothing else is looked up there)."""
    import playwright

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise CaptureError("no ffmpeg: apt-get install -y ffmpeg")
    listing = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    revision = next(
        b["revision"] for b in json.loads(listing.read_text())["browsers"] if b["name"] == "ffmpeg"
    )
    link = folder / f"ffmpeg-{revision}" / "ffmpeg-linux"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(ffmpeg)
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(folder)


@contextmanager
def browser(chromium: str = CHROMIUM, **context: Any) -> Iterator[Any]:
    """A fresh headless Chromium context (Playwright's ``new_context`` options)."""
    from playwright.sync_api import sync_playwright

    if not Path(chromium).is_file():
        raise CaptureError(
            f"no Chromium at {chromium}: apt-get install -y chromium (or set MINDLENS_CHROMIUM)"
        )
    saved = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if "record_video_dir" in context:
        _debian_ffmpeg_for_playwright(Path(context["record_video_dir"]).parent / "playwright")
    try:
        with sync_playwright() as pw:
            instance = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
            try:
                ctx = instance.new_context(**({"viewport": {"width": WIDTH, "height": 900}} | context))
                try:
                    yield ctx
                finally:
                    ctx.close()  # a recorded video is written here
            finally:
                instance.close()
    finally:
        if saved is None:
            os.environ.pop("PLAYWRIGHT_BROWSERS_PATH", None)
        else:
            os.environ["PLAYWRIGHT_BROWSERS_PATH"] = saved


def shoot(page: Any, path: Path, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), **options)
    log(f"wrote {path} ({path.stat().st_size // 1024} kB)")
    return path


# --- the targets ---------------------------------------------------------------------------------


def capture_mlflow(ws: Workspace, out: Path, chromium: str = CHROMIUM, train: bool = True) -> dict[str, str]:
    """``mlflow-runs.png`` and ``mlflow-registry.png``; the text of each page (for checks).
    Without ``train`` the runs page has only the shipped releases' runs (quicker)."""
    if train:
        ws.evaluate()  # the champion's run on the sampled split sits beside the TF-IDF runs
    else:
        ws.bootstrap()
    from mindlens.config import Settings

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(state_dir=ws.state)
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", str(settings.mlflow.tracking_uri),
        "--default-artifact-root", str(settings.paths.mlflow_artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    env = ws.env | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no background job workers
    texts = {}
    with running(command, env, f"{base}/health", ws.state / "mlflow-server.log"):
        with browser(chromium, viewport={"width": WIDTH, "height": 1080}) as ctx:
            script = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in MLFLOW_LOCAL_STORAGE.items())
            ctx.add_init_script(script)
            page = ctx.new_page()
            experiment = _experiment_id(settings)
            query = urllib.parse.urlencode(
                {"searchFilter": "metrics.val_si_f1 >= 0", "compareRunsMode": "CHART"}
            )
            page.goto(f"{base}/#/experiments/{experiment}/runs?{query}")
            page.wait_for_selector("text=matching runs", timeout=60_000)
            page.get_by_placeholder("Search metric charts").fill(RUN_METRICS)
            page.wait_for_selector("text=val_tc_micro_f1", timeout=30_000)
            page.wait_for_timeout(2500)  # the bar charts animate in
            texts["runs"] = page.inner_text("body")
            shoot(page, out / "mlflow-runs.png")

            page.set_viewport_size({"width": WIDTH, "height": 840})
            page.goto(f"{base}/#/models/{settings.mlflow.registered_model}")
            page.wait_for_selector("text=semver", timeout=60_000)
            page.wait_for_selector(f"text={settings.mlflow.champion_alias}", timeout=30_000)
            page.wait_for_timeout(1000)
            texts["registry"] = page.inner_text("body")
            shoot(page, out / "mlflow-registry.png")
    return texts


def _experiment_id(settings: Any) -> str:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=settings.mlflow.tracking_uri)
    experiment = client.get_experiment_by_name(settings.mlflow.experiment)
    if experiment is None:
        raise CaptureError(
            f"no MLflow experiment {settings.mlflow.experiment!r} in {settings.mlflow.tracking_uri}"
        )
    return str(experiment.experiment_id)


def article(max_chars: int | None = None) -> str:
    """The first PTC test-set article (sorted by id; text only, no labels exist, never trained
    on) of ARTICLE_CHARS size, as published; the demo's news example without the data."""
    folder = Path(os.environ["MINDLENS_DATA_DIR"]) / "ptc-semeval2020-task11" / "datasets" / "test-articles"
    for path in sorted(folder.glob("article*.txt")):
        text = path.read_text(encoding="utf-8")
        if ARTICLE_CHARS[0] <= len(text) <= ARTICLE_CHARS[1]:
            return text if max_chars is None else text[: text.rfind("\n", 0, max_chars)]
    return (ROOT / "demo" / "examples" / "news_report.txt").read_text(encoding="utf-8")


def paragraph() -> str:
    """The article's sentences on one line (``mindlens labels push`` reads one text a line)."""
    return " ".join(line.strip() for line in article().splitlines()[2:] if line.strip())


def capture_label_studio(ws: Workspace, out: Path, chromium: str = CHROMIUM) -> dict[str, Any]:
    """``label-studio.png``: the labelling view of a task the champion pre-annotated; the
    page's text and the pre-annotation's labels (for checks)."""
    from mindlens.labelling.connection import Connection, connect, get
    from mindlens.labelling.server import (
        DEFAULT_VENV,
        ensure_label_studio,
        start_label_studio,
        stop_label_studio,
    )

    ws.bootstrap()
    venv = Path(os.environ.get("MINDLENS_LABEL_STUDIO_VENV", DEFAULT_VENV))
    log(f"Label Studio venv {venv} ...")
    ensure_label_studio(venv)
    port, token = free_port(), secrets.token_hex(20)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    data_dir = ws.state / "label-studio"  # fresh: its API token is only set on a new data dir
    shutil.rmtree(data_dir, ignore_errors=True)
    process = start_label_studio(venv, data_dir, port, LS_USER, LS_PASSWORD, token)
    log(f"Label Studio up in {time.monotonic() - started:.0f} s")
    try:
        text = paragraph()
        texts_file = ws.state / "label-studio-texts.txt"
        texts_file.write_text(text + "\n", encoding="utf-8")
        env = {"MINDLENS_LABEL_STUDIO__URL": base, "MINDLENS_LABEL_STUDIO_TOKEN": token}
        started = time.monotonic()
        pushed = json.loads(ws.mindlens("labels", "push", "--texts", str(texts_file), env=env))
        log(f"mindlens labels push: {pushed['imported']} tasks in {time.monotonic() - started:.0f} s")
        if not pushed.get("pre_annotated"):
            raise CaptureError(f"mindlens labels push pre-annotated nothing: {pushed}")
        project_id = int(pushed["project_id"])
        client = connect(Connection(base, token, str(pushed["project"])))
        task = next(
            (
                t
                for t in client.tasks.list(project=project_id, fields="all")
                if (get(t, "data") or {}).get("text") == text
            ),
            None,
        )
        if task is None:
            raise CaptureError("the pushed text is not among the project's tasks")
        prediction = client.predictions.list(task=get(task, "id"))[0]
        # Settings > Annotation > "Use predictions to prelabel tasks": the champion's version
        client.projects.update(project_id, model_version=get(prediction, "model_version"))
        labels = sorted(
            {label for r in get(prediction, "result") or [] for label in r["value"].get("labels", [])}
        )
        log(f"task {get(task, 'id')}: {len(get(prediction, 'result') or [])} pre-annotated regions {labels}")

        with browser(chromium, viewport={"width": WIDTH, "height": 860}) as ctx:
            page = ctx.new_page()
            page.goto(f"{base}/user/login/")
            page.fill("input[name=email]", LS_USER)
            page.fill("input[name=password]", LS_PASSWORD)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
            page.goto(f"{base}/projects/{project_id}/data?task={get(task, 'id')}")
            page.wait_for_selector(".htx-highlight, [class*=highlight]", timeout=60_000)
            page.wait_for_timeout(2000)
            body = page.inner_text("body")
            shoot(page, out / "label-studio.png")
        return {"page": body, "labels": labels, "task": str(get(task, "id"))}
    finally:
        stop_label_studio(process)


def capture_report(ws: Workspace, out: Path, chromium: str = CHROMIUM) -> str:
    """``evaluation-report.png``: the executed evaluation report from its top (header, table
    of contents) to the end of its first plot; the text shown (for checks)."""
    html = ws.evaluate()
    with browser(chromium, viewport={"width": 1280, "height": 1000}) as ctx:
        page = ctx.new_page()
        page.goto(html.resolve().as_uri())
        page.wait_for_load_state("load")
        bottom = page.evaluate(
            "() => { const img = [...document.images].find(i => i.naturalWidth > 200);"
            " return img ? img.getBoundingClientRect().bottom + window.scrollY : 1600; }"
        )
        height = int(bottom) + 8
        shoot(
            page,
            out / "evaluation-report.png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": height},
        )
        return page.inner_text("body")


# --- the video ---------------------------------------------------------------------------------------

CURSOR = """
window.addEventListener('DOMContentLoaded', () => {
  const dot = document.createElement('div');
  dot.id = 'capture-cursor';
  dot.style.cssText = 'position:fixed;z-index:2147483647;width:18px;height:18px;margin:-9px 0 0 -9px;'
    + 'border-radius:50%;background:rgba(229,57,53,.55);border:2px solid #fff;pointer-events:none;'
    + 'left:-40px;top:-40px;transition:transform .1s';
  document.body.appendChild(dot);
  document.addEventListener('mousemove', e => { dot.style.left = e.clientX + 'px'; dot.style.top = e.clientY + 'px'; }, true);
  document.addEventListener('mousedown', () => dot.style.transform = 'scale(.6)', true);
  document.addEventListener('mouseup', () => dot.style.transform = '', true);
});
"""  # headless Chromium records no pointer: a dot follows the real mouse events


def _glide(page: Any, locator: Any, steps: int = 20) -> tuple[float, float]:
    """Move the mouse visibly to the middle of ``locator`` (scrolled into view first)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y, steps=steps)
    return x, y


def _click(page: Any, locator: Any, pause_ms: int = 600) -> None:
    _glide(page, locator)
    page.wait_for_timeout(250)
    locator.click()
    page.wait_for_timeout(pause_ms)


def _scroll_to(page: Any, selector: str, pause_ms: int, block: str = "start", smooth: bool = True) -> None:
    """Scroll ``selector`` into view: smoothly for a short step, at once for a long jump
    (GIF pays for every frame that moves, and a long glide is many of them)."""
    behavior = "smooth" if smooth else "instant"
    page.locator(selector).first.evaluate(
        "(e, [block, behavior]) => e.scrollIntoView({behavior, block})", [block, behavior]
    )
    page.wait_for_timeout(pause_ms)


def _drag_slider(page: Any, value: float) -> None:
    """Drag the confidence slider's thumb to ``value`` (0..1) as a person would."""
    slider = page.locator("#ml-slider input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    current = float(slider.input_value())
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * current, y, steps=15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * value, y, steps=25)
    page.mouse.up()


def record_video(ws: Workspace, out: Path, chromium: str = CHROMIUM, short: bool = False) -> dict[str, Any]:
    """``demo.gif`` (about 80 s) and ``demo-poster.png`` (the analysed article, highlighted);
    ``short``: ``demo-short.*``, a quick run without the tour and the pauses, for the test.
    Returns the files and what the page said at each step."""
    from playwright.sync_api import expect

    ws.bootstrap()
    raw = ws.state / "video"
    shutil.rmtree(raw, ignore_errors=True)
    name = "demo-short" if short else "demo"
    pause = (lambda ms: 200) if short else (lambda ms: ms)
    text = article()
    title = text.splitlines()[0].strip()
    seen: dict[str, Any] = {"poster": out / f"{name}-poster.png"}
    summary = "#ml-summary"
    with served(ws.env, ws.state / "server.log") as server:
        size = {"width": 1120, "height": 780}
        with browser(chromium, viewport=size, record_video_dir=str(raw), record_video_size=size) as ctx:
            ctx.add_init_script(CURSOR)
            page = ctx.new_page()
            opened = time.monotonic()  # the recording starts with the page
            page.goto(f"{server.base}/demo/")
            page.wait_for_selector(f"{summary}:has-text('sentences flagged')", timeout=120_000)
            loading_s = time.monotonic() - opened  # cut from the GIF: a blank page loading
            page.wait_for_timeout(pause(3000))  # the demo as it opens: an example, analysed

            box = page.locator("#ml-text textarea")  # paste a news article, analyse it
            _click(page, box, pause(500))
            box.press("Control+a")
            box.fill(text)
            page.wait_for_timeout(pause(2500))
            _click(page, page.locator("#ml-analyze"), 200)
            expect(page.locator(summary)).to_contain_text(f"Title scored: “{title}”", timeout=60_000)
            seen["summary"] = page.inner_text(summary)
            page.wait_for_timeout(pause(2000))

            if not short:  # the highlighted fragments, the traits, the tables
                _scroll_to(page, summary, 5000)
                _scroll_to(page, "#ml-traits", 4000)
                _scroll_to(page, "#ml-details", 4000)
                _scroll_to(page, "#ml-slider", 1500, block="center", smooth=False)

            for value, wait in ((0.3, 3500), (0.7, 3500), (0.4, 2500)):  # the confidence filter
                _drag_slider(page, value)
                expect(page.locator(summary)).to_contain_text(f"confidence ≥ {value:.2f}", timeout=30_000)
                seen[f"filtered {value}"] = page.inner_text(summary)
                page.wait_for_timeout(pause(wait))
            _scroll_to(page, summary, pause(1500))
            page.evaluate(
                "() => document.getElementById('capture-cursor').style.visibility = 'hidden'"
            )  # the dot
            shoot(page, seen["poster"])
            page.evaluate("() => document.getElementById('capture-cursor').style.visibility = 'visible'")

            _scroll_to(
                page, "#ml-feedback", pause(2500), smooth=False
            )  # correct the first fragment's technique
            verdict = page.locator("#ml-verdict-0")
            _click(page, verdict.locator("input"), pause(1200))
            preferred = page.get_by_role("option", name="Really: Flag-waving")  # fits the sample article
            option = (
                preferred
                if preferred.count()
                else page.get_by_role("option", name=re.compile("^Really: ")).first
            )
            _click(page, option, pause(2500))
            pending = page.locator("#ml-feedback-pending")
            expect(pending).to_contain_text(re.compile(r" is .+, not "), timeout=30_000)
            seen["pending"] = pending.inner_text()
            _click(page, page.locator("#ml-judgement").get_by_text("Manipulative", exact=True), pause(1000))
            comment = page.locator("#ml-comment textarea")
            _click(page, comment, 300)
            comment.type("The first fragment waves the flag; it does not frighten.", delay=0 if short else 55)
            page.wait_for_timeout(pause(1200))
            _click(page, page.locator("#ml-send"), 200)
            ack = page.locator("#ml-feedback-ack")
            expect(ack).to_contain_text("stored", timeout=30_000)
            seen["ack"] = ack.inner_text()
            page.wait_for_timeout(pause(5000))
            video = Path(page.video.path())
    fps, width = (2, GIF_WIDTH // 2) if short else (GIF_FPS, GIF_WIDTH)  # short: a quick check
    seen["gif"] = _encode(video, out / f"{name}.gif", max(0.0, loading_s - 0.5), fps, width)
    return seen


def _encode(webm: Path, gif: Path, start_s: float = 0.0, fps: int = GIF_FPS, width: int = GIF_WIDTH) -> Path:
    """ffmpeg: Playwright's WebM from ``start_s`` as a palette GIF, ``fps`` and ``width``; frames that
    barely differ from the last are dropped (``mpdecimate``; GIF keeps each frame's delay),
    so pauses cost nothing and the file stays small."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise CaptureError("no ffmpeg: apt-get install -y ffmpeg")
    gif.parent.mkdir(parents=True, exist_ok=True)
    graph = (
        f"fps={fps},scale={width}:-1:flags=lanczos,mpdecimate,split[a][b];"
        f"[a]palettegen=max_colors={GIF_COLORS}:stats_mode=diff[p];"
        "[b][p]paletteuse=dither=none:diff_mode=rectangle"
    )
    command = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-ss",
        f"{start_s:.2f}",
        "-i",
        str(webm),
        "-filter_complex",
        graph,
    ]
    done = subprocess.run(
        [*command, "-fps_mode", "vfr", "-loop", "0", str(gif)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise CaptureError(f"ffmpeg failed: {done.stderr[-1500:]}")
    log(f"wrote {gif} ({gif.stat().st_size // 1024} kB)")
    return gif


# --- the command line --------------------------------------------------------------------------------

TARGETS: dict[str, Callable[[Workspace, Path, str], Any]] = {
    "mlflow": capture_mlflow,
    "label-studio": capture_label_studio,
    "report": capture_report,
    "video": record_video,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=[*TARGETS, "all"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the images go (default docs/)")
    parser.add_argument("--state", type=Path, help="state folder to use and keep (default: a temporary one)")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable (default %(default)s)")
    args = parser.parse_args(argv)
    targets = list(TARGETS) if args.target == "all" else [args.target]
    state = args.state or Path(tempfile.mkdtemp(prefix="mindlens-capture-"))
    state.mkdir(parents=True, exist_ok=True)
    ws = Workspace(state.resolve())
    for target in targets:
        started = time.monotonic()
        try:
            TARGETS[target](ws, args.out.resolve(), args.chromium)
        except Exception as err:  # a UI changed, a server did not start: say which, briefly
            print(f"capture {target} failed: {type(err).__name__}: {err}", file=sys.stderr)
            print(f"(the state folder and the servers' logs are kept: {state})", file=sys.stderr)
            return 1
        log(f"{target} done in {time.monotonic() - started:.0f} s")
    if args.state is None:
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
