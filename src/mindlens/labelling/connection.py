"""The connection to Label Studio: where it is and the token, from the ``label_studio``
settings (the token from the environment only), and a checked client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class LabelStudioError(RuntimeError):
    """Label Studio is not configured, unreachable, or refused the token (one-line message)."""


@dataclass(frozen=True)
class Connection:
    url: str
    token: str | None = field(repr=False)  # a secret: never in a repr or a log line
    project: str

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @classmethod
    def from_settings(cls, settings: Any = None) -> Connection:
        """The configured Label Studio (``label_studio``: url, project; the token from
        ``MINDLENS_LABEL_STUDIO_TOKEN``)."""
        from mindlens.config import get_settings

        config = (settings or get_settings()).label_studio
        token = config.token.get_secret_value() if config.token is not None else None
        return cls(url=config.url, token=token, project=config.project)


def connect(conn: Connection) -> Any:
    """A checked ``LabelStudio`` client: fails fast with a one-line ``LabelStudioError``."""
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    if not conn.token:
        raise LabelStudioError(
            "MINDLENS_LABEL_STUDIO_TOKEN is not set (Label Studio: Account & "
            "Settings > Personal Access Token)"
        )
    try:
        client = LabelStudio(base_url=conn.url, api_key=conn.token)
        client.users.whoami()
    except (httpx.ConnectError, httpx.TimeoutException) as err:
        raise LabelStudioError(f"Label Studio is unreachable at {conn.url} ({err})") from None
    except ApiError as err:
        if err.status_code in (401, 403):
            raise LabelStudioError(
                f"Label Studio at {conn.url} rejected the token (HTTP {err.status_code})"
            ) from None
        raise LabelStudioError(
            f"Label Studio at {conn.url} answered HTTP {err.status_code}: {str(err.body)[:200]}"
        ) from None
    return client


def get(obj: Any, key: str, default: Any = None) -> Any:
    """A field of an SDK object or of a mapping (exports and fakes are dicts)."""
    return obj.get(key, default) if isinstance(obj, Mapping) else getattr(obj, key, default)
