"""A real Prometheus (Debian's 2.42) scrapes ``mindlens serve`` while this test sends traffic;
then every PromQL expression of the dashboard, every recording rule and every alert is run
against Prometheus's HTTP API. Also: promtool checks the deploy files and unit-tests the
alerts, and the server's JSON access log carries request ids and no text.

``MINDLENS_UPDATE_MONITORING_PLOTS=1`` sends traffic for a minute and redraws
``docs/monitoring.png`` from the same Prometheus (the README's figure).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import ROOT, free_port, stop_process, wait_for_http

pytestmark = pytest.mark.slow

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    not (PROMETHEUS and PROMTOOL),
    reason="prometheus/promtool not installed (Debian package `prometheus`; .ci/run installs it)",
)
DEPLOY = ROOT / "deploy" / "prometheus"
UPDATE_PLOTS = os.environ.get("MINDLENS_UPDATE_MONITORING_PLOTS") == "1"
ADMIN = {"X-API-Key": "test-admin-token"}  # set by the live_server fixture
SECRET = "Zebra-unique-sentinel-7731"  # must never reach the server log
TEXTS = [
    f"They are traitors, all of them! {SECRET}",
    "The so-called experts, those globalist puppets, got it wrong again.",
    "If we do nothing, our children will grow up in a country ruled by criminals.",
    "The committee will publish its report on Tuesday.",
    "Make our streets safe again! Make our streets safe again!",
    "Everyone knows the media lies; only a fool would believe them.",
]


@needs_prometheus
def test_promtool_accepts_config_and_rules_and_the_alert_unit_tests_pass() -> None:
    for args in (
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "rules.yml"],
        ["test", "rules", "rules_test.yml", "rules_test_late.yml"],
    ):
        done = subprocess.run([PROMTOOL, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def _query(prom: str, expr: str) -> list[dict]:
    body = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


def _wait_for_data(prom: str, expr: str, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        result = _query(prom, expr)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def _send_traffic(api: httpx.Client, rounds: int) -> str:
    """Analyses (single and batch, enough to fill the drift window), a 422, a 413 and a reload;
    returns the request id sent with the first analysis."""
    request_id = f"promtest-{uuid.uuid4().hex[:12]}"
    r = api.post(
        "/analyze", json={"text": TEXTS[0], "min_confidence": 0.1}, headers={"X-Request-ID": request_id}
    )
    assert r.status_code == 200, r.text
    for i in range(rounds):
        batch = [f"{TEXTS[(i + k) % len(TEXTS)]} ({k})" for k in range(20)]
        assert api.post("/analyze/batch", json={"texts": batch, "min_confidence": 0.2}).status_code == 200
        assert api.post("/analyze", json={"text": TEXTS[i % len(TEXTS)] * (1 + i % 5)}).status_code == 200
        assert api.post("/analyze", json={"text": ""}).status_code == 422
        assert api.post("/analyze", json={"text": "x" * 6000}).status_code == 413  # limit 5000 here
        api.get("/healthz")
    assert api.post("/admin/reload", headers=ADMIN).status_code == 200
    return request_id


@pytest.fixture(scope="module")
def prometheus(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (PROMETHEUS and PROMTOOL):
        pytest.skip("prometheus/promtool not installed (Debian package `prometheus`; .ci/run installs it)")
    folder = tmp_path_factory.mktemp("prometheus")
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "rules.yml")]
    config["scrape_configs"][0]["static_configs"] = [{"targets": [live_server.removeprefix("http://")]}]
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(folder / "prometheus.log", "w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/-/ready", timeout=60, process=process)
        yield base
    finally:
        stop_process(process)
        log.close()


@pytest.fixture(scope="module")
def scraped(live_server: str, prometheus: str) -> dict:
    """Traffic sent, pipeline runs recorded, and Prometheus has scraped and evaluated them."""
    from mindlens.config import get_settings
    from mindlens.monitoring.pipeline_status import record_run, status_path

    status = status_path(get_settings())  # the server reads the same state folder
    now = time.time()
    record_run(status, "mindlens_pipeline", "success", "manual__ok", end=now - 9 * 86400)
    record_run(status, "mindlens_pipeline", "failed", "manual__failed", end=now - 60)
    started = time.time()
    with httpx.Client(base_url=live_server, timeout=60) as api:
        request_id = _send_traffic(api, rounds=2)
        deadline = time.monotonic() + (60 if UPDATE_PLOTS else 0)
        while time.monotonic() < deadline:
            _send_traffic(api, rounds=1)
            time.sleep(2)
        # the drift gauge needs the reference (computed in the background at model load)
        psi_ready = time.monotonic() + 60
        while "mindlens_drift_psi{" not in api.get("/metrics").text and time.monotonic() < psi_ready:
            _send_traffic(api, rounds=1)
    assert _wait_for_data(prometheus, 'mindlens_drift_psi{feature="techniques"}'), "no drift gauge scraped"
    assert _wait_for_data(prometheus, "mindlens:request_error_ratio:rate5m"), "rules not evaluated"
    time.sleep(3)  # a few more scrapes, so every rate() has two samples after the traffic
    return {"request_id": request_id, "started": started}


@needs_prometheus
def test_scrape_target_is_up_and_every_rule_is_healthy(prometheus: str, scraped: dict) -> None:
    targets = httpx.get(f"{prometheus}/api/v1/targets").json()["data"]["activeTargets"]
    assert [t["health"] for t in targets] == ["up"], targets
    groups = httpx.get(f"{prometheus}/api/v1/rules").json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == sum(
        len(g["rules"]) for g in yaml.safe_load((DEPLOY / "rules.yml").read_text())["groups"]
    )
    assert all(rule["health"] == "ok" for rule in rules), [(r["name"], r.get("lastError")) for r in rules]


@needs_prometheus
def test_every_dashboard_query_returns_data(prometheus: str, scraped: dict) -> None:
    from mindlens.monitoring.dashboard import expressions

    empty = [expr for expr in expressions() if not _wait_for_data(prometheus, expr, timeout=10)]
    assert not empty, f"dashboard queries without data: {empty}"


_COMPARISON = re.compile(r"^(?P<lhs>.+?)\s*(?P<op>>|<|==)\s*(?P<rhs>[\d.]+(?:\s*\*\s*[\d.]+)*)$", re.S)


@needs_prometheus
def test_every_recording_rule_and_alert_signal_returns_data_and_alerts_agree(
    prometheus: str, scraped: dict
) -> None:
    """Each recording rule returns data; each alert's signal (the side compared with its
    threshold) returns data, and the alert's own expression returns data exactly where the
    signal crosses the threshold (here: drift on short test texts, a failed and a late DAG)."""
    groups = yaml.safe_load((DEPLOY / "rules.yml").read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    for rule in rules:
        if "record" in rule:
            assert _wait_for_data(prometheus, rule["record"], timeout=10), rule["record"]
            continue
        match = _COMPARISON.match(" ".join(rule["expr"].split()))
        assert match, f"{rule['alert']}: write alerts as <signal> <op> <threshold>"
        signal = _wait_for_data(prometheus, match["lhs"], timeout=10)
        assert signal, f"{rule['alert']}: its signal {match['lhs']} returned no data"
        threshold = 1.0
        for factor in match["rhs"].split("*"):
            threshold *= float(factor)
        compare = {">": float.__gt__, "<": float.__lt__, "==": float.__eq__}[match["op"]]
        expected = sorted(
            json.dumps(s["metric"], sort_keys=True)
            for s in signal
            if compare(float(s["value"][1]), threshold)
        )
        fired = sorted(json.dumps(s["metric"], sort_keys=True) for s in _query(prometheus, rule["expr"]))
        assert fired == expected, rule["alert"]
    firing = {r["alert"] for r in rules if "alert" in r and _query(prometheus, r["expr"])}
    assert {"MindLensPipelineFailed", "MindLensPipelineLate"} <= firing
    assert "MindLensNoChampion" not in firing


@needs_prometheus
def test_access_log_is_json_with_the_request_id_and_no_text(live_server: str, scraped: dict) -> None:
    log_path = Path(os.environ["MINDLENS_STATE_DIR"]) / "server.log"  # written by live_server
    lines = log_path.read_text().splitlines()
    assert SECRET not in "\n".join(lines)
    events = [json.loads(line) for line in lines if line.startswith("{")]
    ours = [e for e in events if e.get("request_id") == scraped["request_id"]]
    access = [e for e in ours if e["logger"] == "uvicorn.access"]
    assert len(access) == 1, ours
    assert access[0]["path"] == "/analyze" and access[0]["status"] == 200 and access[0]["method"] == "POST"
    assert access[0]["duration_ms"] >= 0 and access[0]["event"] == "request"
    assert all(e["request_id"] == "-" for e in events if "mindlens API docs" in e["message"])


@pytest.mark.skipif(
    not UPDATE_PLOTS, reason="set MINDLENS_UPDATE_MONITORING_PLOTS=1 to redraw docs/monitoring.png"
)
def test_update_readme_plots(prometheus: str, scraped: dict) -> None:
    from mindlens.monitoring.plots import render

    out = render(prometheus, ROOT / "docs" / "monitoring.png", scraped["started"] - 5, step=2)
    assert out.stat().st_size > 10_000
