"""Deployment stages: move the champion alias when the gate allows it, and tell the running
API to load the new champion (it also polls the registry)."""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings
from mindlens.tracking import mlflow_client

log = logging.getLogger(__name__)


def promote_if_passed(
    decision: dict[str, Any], allow: bool = True, settings: Settings | None = None
) -> dict[str, Any]:
    """Give the version the ``champion`` alias if the gate passed (and ``allow``)."""
    from mindlens.registry import promote as set_alias

    settings = settings or get_settings()
    version = decision["version"]
    if not decision["passed"]:
        result = {
            "promoted": False,
            "version": version,
            "reason": "gate failed: " + "; ".join(decision["reasons"]),
        }
    elif not allow:
        result = {
            "promoted": False,
            "version": version,
            "reason": "gate passed but promotion was disabled for this run",
        }
    else:
        moved = set_alias(settings, version)
        result = {
            "promoted": True,
            "version": version,
            "previous": moved["previous"],
            "reason": "gate passed",
        }
    log.info(
        "v%s %s (%s)",
        version,
        "promoted to champion" if result["promoted"] else "stays challenger",
        result["reason"],
    )
    run_id = decision.get("run_id")
    if run_id:
        mlflow_client(settings).set_tag(run_id, "promoted", str(result["promoted"]).lower())
    return result


def redeploy(promotion: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Tell the running API to load the new champion when ``promotion`` (a registration or a
    gated promotion: anything with ``promoted``) moved it; the API also polls the registry."""
    if not promotion["promoted"]:
        return {"notified": False, "reason": "champion unchanged"}
    return notify_reload(settings or get_settings())


def notify_reload(settings: Settings | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the running API to reload its champion; a stopped API is not an error."""
    import httpx

    settings = settings or get_settings()
    url = f"{settings.serving.url.rstrip('/')}/admin/reload"
    headers = {"X-API-Key": settings.serving.admin_token} if settings.serving.admin_token else {}
    try:
        response = httpx.post(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as err:
        log.warning("API not reachable at %s (%s); it loads the champion when it starts", url, err)
        return {"notified": False, "url": url, "reason": f"API not reachable: {err}"}
    if response.status_code >= 400:
        raise RuntimeError(f"reload at {url} answered {response.status_code}: {response.text[:300]}")
    return {"notified": True, "url": url, **response.json()}
