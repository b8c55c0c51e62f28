"""An extract's manifest: what was asked for, as of when, and the size, row count and
SHA-256 of every file, so a researcher (or an auditor) can check what she holds. It
carries no request time or extract number: the same definition against the same snapshot
gives the same manifest, byte for byte."""

import hashlib
import json
from datetime import datetime
from pathlib import Path

NAME = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(directory: Path, names: list[str], rows: dict[str, int]) -> list[dict]:
    """[{"name", "bytes", "rows", "sha256"}] for each file, in the order given."""
    return [
        {
            "name": name,
            "bytes": (directory / name).stat().st_size,
            "rows": rows.get(name),
            "sha256": sha256_of(directory / name),
        }
        for name in names
    ]


def write(
    directory: Path, *, project: str, snapshot_at: datetime, definition: dict, files: list[dict]
) -> None:
    body = {
        "project": project,
        "snapshot_at": snapshot_at.isoformat(),
        "definition": definition,
        "files": files,
    }
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (directory / NAME).write_text(text, encoding="utf-8")
