"""Deployment files stay consistent with the code (parsed, not built: no engine in CI)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_are_complete_and_bound_to_loopback():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "mlflow", "api", "airflow", "label-studio"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    for name in ("mlflow", "api", "airflow"):
        assert services[name]["user"] == "10001"
        assert services[name]["image"] == "mindlens-app:latest"


def test_app_image_runs_as_non_root_and_copies_what_it_needs():
    dockerfile = (ROOT / "docker" / "app.Dockerfile").read_text()
    assert "\nUSER mindlens\n" in dockerfile
    for folder in ("src", "demo", "configs", "dags", "notebooks", "models"):
        assert f"COPY {folder} ./{folder}" in dockerfile
