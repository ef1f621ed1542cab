"""The API's routers, one per concern; ``create_app`` includes them in this order."""

from mindlens.serving.routes import admin, analyze, feedback, ops

ROUTERS = (analyze.router, ops.router, admin.router, feedback.router)

__all__ = ["ROUTERS"]
