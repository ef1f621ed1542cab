"""``python -m mindlens.cli``."""

from mindlens.cli.main import app

app()
