"""``/admin/reload``: load the registry's champion now (the pipeline calls it after a promotion)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mindlens.serving.deps import StoreDep, require_admin
from mindlens.serving.errors import responses
from mindlens.serving.schemas import ReloadResponse

router = APIRouter(tags=["ops"])


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    dependencies=[Depends(require_admin)],
    responses=responses(401, 403),
)
def admin_reload(store: StoreDep) -> ReloadResponse:
    """Load the registry's champion now if it changed (the pipeline calls this)."""
    changed = store.reload()
    error = None if changed else store.problem
    if not changed and error is None and store.current is None:
        error = store.unavailable_reason()  # nothing served: say why (no champion registered yet)
    return ReloadResponse(reloaded=changed, version=store.version, error=error)
