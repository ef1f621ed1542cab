"""Container fixtures: the engine and the two MindLens images, each built once per test
session. Builds reuse the engine's layer cache, so a rerun with unchanged dependencies
rebuilds only the layers after the dependency install. Everything a test starts is removed
again; the images stay (the next run's cache)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from conftest import ROOT

from containers.engine import TAG, podman, run, torch_wheels


@pytest.fixture(scope="session")
def engine() -> list[str]:
    found = podman()
    if found is None:
        pytest.skip("podman not installed (CI installs it with ../shared/tools/podman-setup.sh when present)")
    if (
        run([*found, "image", "exists", "docker.io/library/debian:bookworm-slim"], check=False).returncode
        != 0
    ):
        pytest.skip("no debian:bookworm-slim base image (../shared/tools/podman-setup.sh builds it)")
    return found


@pytest.fixture(scope="session")
def build(engine: list[str]) -> Callable[..., str]:
    """``build(dockerfile, name, *extra_args)``: build ``name:TAG`` from the checkout once;
    returns the tag. The time each build took is printed (pytest -s, or the -ra summary)."""

    def _build(dockerfile: str, name: str, *extra: str) -> str:
        image = f"{name}:{TAG}"
        started = time.monotonic()
        run(
            [*engine, "build", "--format", "docker", "-t", image, "-f", dockerfile, *extra, str(ROOT)],
            timeout=1800,
        )
        print(f"\nbuilt {image} in {time.monotonic() - started:.0f} s")
        return image

    return _build


@pytest.fixture(scope="session")
def api_image(build: Callable[..., str]) -> str:
    return build("docker/api.Dockerfile", "mindlens-api")


@pytest.fixture(scope="session")
def platform_image(build: Callable[..., str]) -> str:
    wheels = torch_wheels()
    if wheels is None:
        pytest.skip("no torch CPU wheel folder (MINDLENS_TORCH_WHEELS): the build would fetch the CUDA build")
    return build(
        "docker/platform.Dockerfile", "mindlens-platform", "--build-context", f"torch-wheels={wheels}"
    )
