"""``mindlens pipeline``, ``retrain``, ``airflow`` and ``platform up``: the Airflow jobs, run locally
(or on the Celery process topology)."""

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


platform_app = typer.Typer(
    help="The Celery process topology on loopback (make platform): Airflow api-server, scheduler, "
    "dag-processor, triggerer, Celery workers (Redis broker, PostgreSQL metadata) and an MLflow server.",
    no_args_is_help=True,
)


@platform_app.command("up")
def platform_up(
    workers: Annotated[
        int | None, typer.Option(min=1, help="Celery workers (env MINDLENS_PLATFORM_WORKERS; default 2)")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, help="Task slots per worker (env MINDLENS_PLATFORM_WORKER_CONCURRENCY; default 2)"
        ),
    ] = None,
    airflow_port: Annotated[
        int | None,
        typer.Option(help="Airflow UI and REST API port (env MINDLENS_PLATFORM_AIRFLOW_PORT; default 8080)"),
    ] = None,
    mlflow_port: Annotated[
        int | None, typer.Option(help="MLflow server port (env MINDLENS_PLATFORM_MLFLOW_PORT; default 5000)")
    ] = None,
) -> None:
    """Start every process, wait until healthy, run until Ctrl-C or SIGTERM, then stop them all
    (TERM, then KILL after 10 s). Connection strings: MINDLENS_PLATFORM_AIRFLOW_DB,
    MINDLENS_PLATFORM_MLFLOW_DB (PostgreSQL; created when missing), MINDLENS_PLATFORM_BROKER_URL (Redis)."""
    import signal
    import threading

    from mindlens.airflow_local import Platform, PlatformConfig, PlatformError

    settings = settings_or_exit()
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            return
        stop.set()
        raise KeyboardInterrupt  # leaves start() or the health wait at once; watch() sees the event too

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        platform = Platform(
            settings,
            PlatformConfig.from_env(
                workers=workers, concurrency=concurrency, airflow_port=airflow_port, mlflow_port=mlflow_port
            ),
            say=typer.echo,
        )
    except PlatformError as err:
        fail(str(err))
    try:
        platform.start()
        platform.wait_ready()
        config = platform.config
        typer.echo(
            f"ready: Airflow UI {config.airflow_url} (everyone is admin, loopback only), "
            f"MLflow {config.mlflow_url}, {config.workers} Celery worker(s) x {config.concurrency} slot(s); "
            f"logs in {platform.home / 'logs'}; Ctrl-C stops everything"
        )
        platform.watch(stop)
    except KeyboardInterrupt:
        typer.echo("stopping...")
    except PlatformError as err:
        fail(str(err))  # the finally clause below stops what did start
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        platform.stop()
    typer.echo("stopped")
