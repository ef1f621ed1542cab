"""The demo as a MindLens UI plugin: ``mount`` is the ``mindlens.ui`` entry point
(``demo = "mindlens_demo.app:mount"`` in pyproject.toml) that serving calls with its app.

It builds the Gradio UI (``layout``) over the operations serving hands it (``service``)
and mounts it at /demo, never the other way round: MindLens imports no demo code.
"""

from __future__ import annotations

from fastapi import FastAPI

from mindlens.serving.plugins import ServingContext

DEMO_PATH = "/demo"
# how often Gradio's queue looks for new demo events while it has none: its default, 1 ms,
# kept an idle server's event loop (which the API shares) at 6-7 % of a core
IDLE_POLL_S = 0.02


def mount(app: FastAPI, context: ServingContext) -> str:
    """Mount the demo at /demo on ``app``; returns the path (serving logs it)."""
    import gradio as gr

    from mindlens_demo.layout import build_demo
    from mindlens_demo.service import DemoService

    service = DemoService(context)
    demo = build_demo(
        service.analyze,
        service.model_label,
        default_min_confidence=context.settings.serving.min_confidence,
        submit_feedback=service.submit_feedback if service.has_feedback else None,
        analyze_url=service.analyze_url if context.settings.url_fetch.enabled else None,
    )
    gr.mount_gradio_app(app, demo, path=DEMO_PATH, max_file_size="1mb")
    calm_queue(demo)
    app.description = f"{app.description} Interactive demo at [{DEMO_PATH}/]({DEMO_PATH}/)."
    return DEMO_PATH


def calm_queue(blocks: object, seconds: float = IDLE_POLL_S) -> bool:
    """Make the Blocks' event queue poll every ``seconds`` while idle (a demo event waits at
    most that long to start); False when this Gradio's queue has no such setting."""
    queue = getattr(blocks, "_queue", None)
    if queue is None or not hasattr(queue, "sleep_when_free"):
        return False
    queue.sleep_when_free = seconds
    return True
