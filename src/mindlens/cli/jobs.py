"""``mindlens pipeline``, ``retrain`` and ``airflow``: the Airflow jobs, run locally."""

from __future__ import annotations

from typing import Annotated

import typer

from mindlens.cli.common import fail, print_json, settings_or_exit


def pipeline(
    max_documents: Annotated[
        int | None, typer.Option(min=2, help="Use a sample of N documents per source and split.")
    ] = None,
    if_no_champion: Annotated[
        bool, typer.Option(help="Skip when the registry already has a champion.")
    ] = False,
    once: Annotated[
        bool, typer.Option(help="Skip when the pipeline already succeeded in this state folder.")
    ] = False,
) -> None:
    """Run the Airflow DAG mindlens_pipeline once, locally (airflow dags test)."""
    from mindlens.airflow_local import run_dag_once
    from mindlens.registry import NoChampionError, champion_info

    settings = settings_or_exit()
    marker = settings.paths.pipeline_marker
    if once and marker.is_file():
        typer.echo(f"the pipeline already ran here ({marker}); skipping (run `mindlens pipeline` to retrain)")
        return
    if if_no_champion:
        try:
            info = champion_info(settings)
            typer.echo(f"champion {info.name} v{info.version} exists; skipping the pipeline")
            return
        except NoChampionError:
            pass
    conf = {"max_documents": max_documents} if max_documents else {}
    code = run_dag_once(settings, "mindlens_pipeline", conf)
    if code != 0:
        fail(f"the pipeline DAG failed (exit {code}); see the task logs above", code=code)
    try:
        info = champion_info(settings)
    except NoChampionError:
        fail("the pipeline finished but no champion is registered; see the task logs above")
    marker.write_text(f"champion v{info.version}\n")
    typer.echo(f"champion: {info.name} v{info.version} (run {info.run_id})")
    typer.echo(f"reports: {settings.reports_dir}")


def retrain(
    max_documents: Annotated[
        int | None, typer.Option(min=2, help="Use a sample of N documents per source and split.")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Why (recorded with the decision): manual, drift, label_sync...")
    ] = "manual",
    promote: Annotated[bool, typer.Option(help="Promote the new version if it passes the gate.")] = True,
    airflow_dag: Annotated[
        bool,
        typer.Option(
            "--airflow", help="Run the mindlens_retrain DAG (airflow dags test) instead of in this process."
        ),
    ] = False,
) -> None:
    """Retrain on the reviewed feedback: rebuild, train retrain.candidates, compare with the
    champion on the same sets, register as challenger, promote if retrain.gate passes, reload."""
    from mindlens.data.sources.base import DataNotFoundError

    settings = settings_or_exit()
    if airflow_dag:
        from mindlens.airflow_local import run_dag_once

        conf = {"reason": reason, "promote": promote} | (
            {"max_documents": max_documents} if max_documents else {}
        )
        code = run_dag_once(settings, "mindlens_retrain", conf)
        if code != 0:
            fail(f"the retrain DAG failed (exit {code}); see the task logs above", code=code)
        return
    from mindlens import retrain as retrain_job

    try:
        result = retrain_job.run(max_documents, reason=reason, allow_promotion=promote, settings=settings)
    except DataNotFoundError as err:
        fail(str(err))
    decision = result["decision"]
    print_json(
        {
            "version": result["registration"],
            "decision": decision["decision"],
            "reasons": decision["reasons"],
            "promotion": result["promotion"],
            "redeploy": result["redeploy"],
            "retrain_run_id": result["run_id"],
        }
    )


def airflow(ctx: typer.Context) -> None:
    """Run an ``airflow`` command with the project's Airflow home, DAGs and plugins
    (e.g. ``mindlens airflow standalone`` for the UI on http://127.0.0.1:8080)."""
    from mindlens.airflow_local import run_airflow

    raise typer.Exit(run_airflow(settings_or_exit(), list(ctx.args)))
