"""``mindlens monitoring ...``: drift references and reports, the dashboard, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mindlens.cli.common import fail, print_json, settings_or_exit

monitoring_app = typer.Typer(
    help="Drift references and reports, the Grafana dashboard, plots.", no_args_is_help=True
)


@monitoring_app.command("reference")
def monitoring_reference(
    folder: Annotated[Path, typer.Argument(help="An analyzer bundle folder, e.g. models/v1.")],
    max_texts: Annotated[int | None, typer.Option(help="Validation texts to analyse.")] = None,
) -> None:
    """Write the bundle's drift_reference.json from the prepared validation split (a release
    folder's checksums are refreshed)."""
    from mindlens.monitoring.reference import write_bundle_reference

    try:
        path = write_bundle_reference(settings_or_exit(), folder, max_texts)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    typer.echo(f"wrote {path}")


@monitoring_app.command("drift")
def monitoring_drift(
    limit: Annotated[int | None, typer.Option(help="Latest prediction-log lines to read.")] = None,
) -> None:
    """PSI of the champion's logged predictions against its reference, and whether
    retraining is due (what the mindlens_monitoring DAG reports)."""
    from mindlens.monitoring.report import (
        champion_reference,
        drift_report,
        predictions_path,
        read_predictions,
    )

    settings = settings_or_exit()
    reference, info = champion_reference(settings)
    entries = read_predictions(
        predictions_path(settings), limit or settings.monitoring.report_max_predictions
    )
    report = drift_report(settings, reference, entries, info["version"])
    report.pop("shares")
    print_json(report | {"model": info})


@monitoring_app.command("dashboard")
def monitoring_dashboard(
    check: Annotated[bool, typer.Option(help="Exit 1 if the committed JSON differs.")] = False,
) -> None:
    """Generate deploy/grafana/dashboards/mindlens.json from monitoring/dashboard.py."""
    from mindlens.monitoring import dashboard

    if check:
        if dashboard.DASHBOARD_FILE.read_text() != dashboard.render():
            fail(f"{dashboard.DASHBOARD_FILE} is stale; run `mindlens monitoring dashboard`")
        typer.echo("dashboard is up to date")
        return
    typer.echo(f"wrote {dashboard.write()}")


@monitoring_app.command("plots")
def monitoring_plots(
    prometheus: Annotated[str, typer.Option(help="Prometheus base URL.")] = "http://127.0.0.1:9090",
    minutes: Annotated[float, typer.Option(help="How far back to plot.")] = 60.0,
    out: Annotated[Path, typer.Option(help="PNG to write.")] = Path("docs/monitoring.png"),
) -> None:
    """The dashboard's panels drawn from Prometheus range queries (where Grafana can't run)."""
    import time

    from mindlens.monitoring.plots import render

    typer.echo(f"wrote {render(prometheus, out, time.time() - minutes * 60)}")
