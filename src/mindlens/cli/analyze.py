"""``mindlens serve`` and ``mindlens analyze``: the API and ad-hoc analysis."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mindlens.cli.common import fail, load_model, print_json, settings_or_exit


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default from config).")] = None,
    first_pipeline: Annotated[
        bool,
        typer.Option(
            help="Also run the pipeline once in the background unless it succeeded here (make run)."
        ),
    ] = False,
) -> None:
    """Serve the API with the Gradio demo at /demo (one uvicorn process)."""
    from mindlens.serving.server import StartupError
    from mindlens.serving.server import serve as run_server

    settings = settings_or_exit()
    try:
        run_server(
            settings,
            host=host or settings.serving.host,
            port=port or settings.serving.port,
            first_pipeline=first_pipeline,
        )
    except StartupError as err:
        fail(f"not serving: {err}")


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return source


def _render(result: dict[str, Any]) -> str:
    lines = [f"model {result['model']}   document score {result['document']['score']:.2f}"]
    traits = sorted(result["document"]["traits"].items(), key=lambda kv: -kv[1])
    lines.append("traits: " + ", ".join(f"{k}={v:.2f}" for k, v in traits))
    for sentence in result["sentences"]:
        if not sentence["techniques"]:
            continue
        found = ", ".join(f"{t['name']} {t['confidence']:.2f}" for t in sentence["techniques"])
        lines.append(f"[{sentence['start']}:{sentence['end']}] {sentence['text']}\n    -> {found}")
    if len(lines) == 2:
        lines.append("no sentence reaches the confidence threshold")
    return "\n".join(lines)


def analyze(
    text: Annotated[str | None, typer.Argument(help="Text to analyse, a file path, or - for stdin.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a readable summary.")
    ] = False,
    jsonl: Annotated[Path | None, typer.Option(help="Analyse one text per line of this file.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="With --jsonl: write results here (default stdout).")
    ] = None,
    min_confidence: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    model_uri: Annotated[str | None, typer.Option(help="MLflow model URI; default the champion.")] = None,
) -> None:
    """Analyse text with the registry champion (or any model URI)."""
    from tqdm import tqdm

    if (text is None) == (jsonl is None):
        fail("give either TEXT (or - or a file) or --jsonl FILE", code=2)
    settings = settings_or_exit()
    analyzer, ref = load_model(settings, model_uri)
    model = {k: ref[k] for k in ("name", "version", "run_id", "uri")}

    def run(one: str) -> dict[str, Any]:
        return {"model": model, **analyzer.analyze(one, min_confidence=min_confidence)}

    if jsonl is not None:
        if not jsonl.is_file():
            fail(f"no such file: {jsonl}", code=2)
        lines = jsonl.read_text(encoding="utf-8").splitlines()
        sink = open(out, "w", encoding="utf-8") if out else sys.stdout
        try:
            for line in tqdm(lines, desc="analysing", unit="text", file=sys.stderr):
                sink.write(json.dumps(run(line), ensure_ascii=False) + "\n")
        finally:
            if out:
                sink.close()
        return
    content = _read_input(text or "")
    if not content.strip():
        fail("the text is empty", code=2)
    result = run(content)
    if as_json:
        print_json(result)
    else:
        typer.echo(_render(result | {"model": ref["label"]}))
