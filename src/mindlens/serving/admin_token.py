"""The admin token: secure by default. ``/admin/*`` and ``GET /feedback/{id}`` need it; with
none configured they are closed to everyone.

``MINDLENS_SERVING__ADMIN_TOKEN`` (the environment, never the config file) wins. Without it,
the first ``mindlens serve`` generates a random token into ``<state_dir>/admin_token``
(mode 0600, created that way, never readable by others) and says where it is; every later
``mindlens`` process (the pipeline's reload call, ``registry promote``) reads it from there
(``Settings``). The token itself is never logged or printed.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from mindlens.config import Settings

log = logging.getLogger(__name__)


def _write_new(path: Path) -> str | None:
    """A new token in a new 0600 file; None if the file already exists."""
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def ensure_admin_token(settings: Settings) -> Path | None:
    """Make sure ``settings.serving.admin_token`` is set. Returns the token file when the token
    lives there (generated now or earlier), None when it came from the environment."""
    path = settings.paths.admin_token
    from_env = bool(os.environ.get("MINDLENS_SERVING__ADMIN_TOKEN"))
    if settings.serving.admin_token and from_env:
        return None
    token = settings.serving.admin_token
    if not token:
        token = _write_new(path)
        if token is None:  # another process wrote it meanwhile
            token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise RuntimeError(f"the admin token file {path} is empty: delete it to generate a new one")
        settings.serving.admin_token = token
    if path.is_file():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(0o600)
            log.warning("admin token file %s was readable by others (mode %o); now 0600", path, mode)
        return path
    return None
