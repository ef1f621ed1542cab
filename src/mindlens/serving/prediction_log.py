"""A JSON-lines log of every prediction, for monitoring (the drift report reads it). Raw text
is kept only if configured: by default a hash and a length. Feedback joins its prediction
in the feedback database, not here (``mindlens.feedback.predictions``)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from mindlens.feedback.predictions import text_sha256
from mindlens.serving.request_id import current as current_request_id


class PredictionLog:
    def __init__(self, path: Path | None, text_mode: str = "hash", truncate_chars: int = 200) -> None:
        self.path = path
        self.text_mode = text_mode
        self.truncate_chars = truncate_chars
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, endpoint: str, text: str, result: dict[str, Any], min_confidence: float = 0.0) -> None:
        if self.path is None:
            return
        # a speaker's name is text too: logged only where the log keeps the text
        fields: tuple[str, ...] = ("start", "end", "technique", "confidence", "quoted")
        fields += ("speaker",) if self.text_mode == "full" else ()
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": current_request_id.get(),
            "endpoint": endpoint,
            "model": result.get("model"),
            "text_sha256": text_sha256(text),
            "text_chars": len(text),
            "spans": [
                {k: s.get(k) for k in fields}
                for s in result.get("spans", [])
                if s["confidence"] >= min_confidence
            ],
            "document": {"score": result["document"]["score"], "traits": result["document"]["traits"]},
            "clickbait": (result.get("title") or {}).get("clickbait"),
            "latency_ms": result.get("timings_ms", {}).get("total"),
        }
        if self.text_mode == "full":
            entry["text"] = text
        elif self.text_mode == "truncate":
            entry["text"] = text[: self.truncate_chars]
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
