"""Run the app under uvicorn: one process, graceful shutdown on SIGTERM/SIGINT.

One process on purpose: the model store, its polling thread and the
Prometheus registry live in memory and would diverge across workers.
"""

from __future__ import annotations

import logging
import logging.config

import uvicorn

from mindlens.config import Settings, get_settings
from mindlens.registry.registry import RegistryError, check_registry
from mindlens.serving.admin_token import ensure_admin_token
from mindlens.serving.app import create_app
from mindlens.serving.first_pipeline import FirstPipeline
from mindlens.serving.logging_setup import log_config

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The server refuses to start (a missing registry, say); the message says what to do."""


def serve(
    settings: Settings | None = None,
    host: str | None = None,
    port: int | None = None,
    *,
    first_pipeline: bool = False,
) -> None:
    """Serve the API and its UI plugins (the demo) until interrupted; blocks.

    Refuses to start (``StartupError``) on a missing or unreadable registry database unless
    ``serving.create_registry`` is set; generates the admin token file when none is configured.
    ``first_pipeline``: run the pipeline once beside the server if it never succeeded in this
    state folder (``make run``: serve the shipped champion at once, train in the background)."""
    settings = settings or get_settings()
    host = host or settings.serving.host
    port = port or settings.serving.port
    logging_config = log_config(settings.monitoring.log_format)  # request id on every line
    logging.config.dictConfig(logging_config)
    try:
        check_registry(settings, create=settings.serving.create_registry)
    except RegistryError as err:
        raise StartupError(str(err)) from None
    token_file = ensure_admin_token(settings)
    if token_file is not None:
        log.info("admin token (X-API-Key for /admin/* and GET /feedback/{id}) is in %s", token_file)
    else:
        log.info("admin token: from MINDLENS_SERVING__ADMIN_TOKEN")
    app = create_app(settings)
    if first_pipeline:  # started and ended by the app's lifespan
        app.state.first_pipeline = FirstPipeline(settings, on_success=app.state.store.reload)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    log.info("MindLens API docs: %s/docs", base)
    for name, path in app.state.ui.items():
        log.info("MindLens %-9s %s%s/", f"{name}:", base, path)
    log.info("metrics: %s/metrics  health: %s/healthz", base, base)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        log_config=logging_config,
        timeout_graceful_shutdown=10,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
