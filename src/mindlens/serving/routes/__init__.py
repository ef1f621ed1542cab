"""The API's routers, one per concern; ``create_app`` includes them in this order."""

from mindlens.serving.routes import admin, analyze, feedback, landing, ops

ROUTERS = (landing.router, analyze.router, ops.router, admin.router, feedback.router)

__all__ = ["ROUTERS"]
