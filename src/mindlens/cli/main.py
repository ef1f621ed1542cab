"""The ``mindlens`` command: one sub-command per pipeline stage, plus serving and analysis.

Each group or command lives in its own module of this package; this one only wires them
(in the order ``mindlens --help`` lists them).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from mindlens.cli.analyze import analyze, serve
from mindlens.cli.batch import batch
from mindlens.cli.data import data_app
from mindlens.cli.evaluate import compare, evaluate, predict_ptc
from mindlens.cli.feedback import feedback_app
from mindlens.cli.jobs import airflow, pipeline, platform_app, retrain
from mindlens.cli.labels import labels_app
from mindlens.cli.monitoring import monitoring_app
from mindlens.cli.protocol import protocol_app
from mindlens.cli.registry import register, registry_app
from mindlens.cli.train import train

app = typer.Typer(
    help="MindLens: find where a text tries to manipulate its reader.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mlflow.store", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


app.add_typer(data_app, name="data")
app.command()(train)
app.add_typer(labels_app, name="labels")
app.add_typer(feedback_app, name="feedback")
app.add_typer(registry_app, name="registry")
app.command()(register)
app.command()(evaluate)
app.command("predict-ptc")(predict_ptc)
app.command()(compare)
app.add_typer(protocol_app, name="protocol")
app.command()(serve)
app.command()(analyze)
app.command()(batch)
app.command()(pipeline)
app.command()(retrain)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(airflow)
app.add_typer(platform_app, name="platform")
app.add_typer(monitoring_app, name="monitoring")
