"""``mindlens``: the command line (``mindlens --help``); see ``main`` for the wiring."""

from mindlens.cli.main import app

__all__ = ["app"]
