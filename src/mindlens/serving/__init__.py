"""HTTP serving: the FastAPI app (analysis API, Prometheus metrics, Gradio demo).

The app always serves the registry's champion, reloaded atomically when the
champion changes, so a new training run never needs a redeploy.
"""

from mindlens.serving.app import create_app

__all__ = ["create_app"]
