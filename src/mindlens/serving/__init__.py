"""HTTP serving: the FastAPI app factory (analysis API, feedback, Prometheus metrics) and the
UI plugins it mounts (the Gradio demo).

The app always serves the registry's champion, reloaded atomically when the
champion changes, so a new training run never needs a redeploy.
"""

from mindlens.serving.app import create_app

__all__ = ["create_app"]
