"""What the demo reads: the example articles shipped in ``examples/`` and uploaded files."""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
MAX_UPLOAD_BYTES = 200_000
FALLBACK_EXAMPLE = (
    "The so-called experts, those globalist puppets, got it wrong again. "
    "If we do nothing, our children will grow up in a country ruled by criminals. "
    "Every true patriot will stand with us on this. "
    "The committee will publish its report on Tuesday. "
    "Make our streets safe again!"
)


def load_examples(folder: Path = EXAMPLES_DIR) -> dict[str, str]:
    """Example articles by display name; each opens with its headline (the default title)."""
    examples = {
        path.stem.replace("_", " ").capitalize(): path.read_text(encoding="utf-8").strip()
        for path in sorted(folder.glob("*.txt"))
    }
    return examples or {"Example": FALLBACK_EXAMPLE}


def read_upload(path: str | Path, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """An uploaded file's text; ValueError (with a reader-facing message) if too big or not UTF-8."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path.name} is too big: {size:,} bytes, the limit is {max_bytes:,} bytes.")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            f"{path.name} is not UTF-8 text: save it as UTF-8 plain text and upload it again."
        ) from None
