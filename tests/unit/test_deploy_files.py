"""Deployment files stay consistent with the code and with each other (parsed, not built;
tests/containers builds and starts them where podman is installed)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)


class _ComposeLoader(yaml.SafeLoader):
    """YAML with the compose spec's ``!reset`` (an override's way to drop a merged key)."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: "!reset")


def _compose(name: str = "docker-compose.yml") -> dict:
    return yaml.load((ROOT / name).read_text(), Loader=_ComposeLoader)


def test_compose_services_are_complete_and_bound_to_loopback():
    services = _compose()["services"]
    expected = {
        "postgres",
        "redis",
        "init",
        "mlflow",
        "api",
        "label-studio",
        "prometheus",
        "grafana",
        *AIRFLOW,
    }
    assert expected <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        if name != "init":
            assert "healthcheck" in service or name == "grafana", f"{name} has no healthcheck"
    for name in (*AIRFLOW, "init", "mlflow"):
        assert services[name]["image"].startswith("mindlens-platform:"), name
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert services["api"]["image"].startswith("mindlens-api:")
    assert "container_name" not in services["airflow-worker"]  # `--scale airflow-worker=N` works


def test_every_required_secret_is_in_the_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line and not line.startswith("#")}  # fmt: skip
    assert required and required <= example, required - example


def test_local_override_replaces_public_images_and_leaves_grafana_out():
    main, local = _compose()["services"], _compose("docker-compose.local.yml")["services"]
    assert set(local) <= set(main)
    for name in ("postgres", "redis", "prometheus", "label-studio"):
        assert local[name]["build"]["dockerfile"] == "docker/local/services.Dockerfile"
        assert local[name]["build"]["target"] == name
        assert f"AS {name}\n" in (ROOT / "docker/local/services.Dockerfile").read_text()
    assert local["grafana"]["profiles"]
    # podman < 4.6 cannot start a container whose dependency exited (init): the override drops
    # those dependencies and every such service waits for init's marker in its entrypoint.
    for name, service in main.items():
        if "init" in service.get("depends_on", {}):
            assert local[name]["depends_on"] == "!reset", name
            assert "file:/var/lib/mindlens/init.done" in service["environment"]["MINDLENS_WAIT_FOR"], name


def test_images_run_as_non_root_and_the_inference_image_has_no_training_stack():
    for name in ("api", "platform"):
        dockerfile = (ROOT / "docker" / f"{name}.Dockerfile").read_text()
        assert "\nUSER mindlens\n" in dockerfile and "ARG BASE=debian:bookworm-slim" in dockerfile
        assert 'ARG PIP_CERT=""' in dockerfile and "-c /tmp/deps/constraints.txt" in dockerfile
    api = (ROOT / "docker" / "api.Dockerfile").read_text()
    assert "deps.py pyproject.toml serve " in api and "HEALTHCHECK" in api
    assert "deps.py pyproject.toml airflow " in (ROOT / "docker" / "platform.Dockerfile").read_text()


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".mindlens", ".git", "datasets", ".env"):
        assert entry in ignored


def test_deps_lists_the_extras_with_their_self_references(tmp_path):
    import runpy

    requirements = runpy.run_path(str(ROOT / "docker" / "deps.py"))["requirements"]
    serve = requirements(str(ROOT / "pyproject.toml"), ["serve"])
    assert "onnxruntime>=1.30" in serve and not any(r.startswith(("torch", "apache-airflow")) for r in serve)
    platform = requirements(str(ROOT / "pyproject.toml"), ["airflow"])
    assert {"torch==2.13.0", "apache-airflow==3.3.2", "onnxruntime>=1.30"} <= set(platform)
    assert not any(r.startswith("mindlens") for r in platform)
