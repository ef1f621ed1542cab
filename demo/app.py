"""The demo as a MindLens UI plugin: ``mount`` is the ``mindlens.ui`` entry point
(``demo = "mindlens_demo.app:mount"`` in pyproject.toml) that serving calls with its app.

It builds the Gradio UI (``layout``) over the operations serving hands it (``service``)
and mounts it at /demo, never the other way round: MindLens imports no demo code.
"""

from __future__ import annotations

from fastapi import FastAPI

from mindlens.serving.plugins import ServingContext

DEMO_PATH = "/demo"


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
    app.description = f"{app.description} Interactive demo at [{DEMO_PATH}/]({DEMO_PATH}/)."
    return DEMO_PATH
