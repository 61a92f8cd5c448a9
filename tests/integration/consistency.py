"""Offline checks of a storage root, made while its registryd is stopped: SQLite's own
integrity check, tags that name existing manifests, and content-addressed files whose bytes
hash to their names."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def open_readonly(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{root / 'registry.db'}?mode=ro", uri=True)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_storage(root: Path) -> list[str]:
    """Everything wrong with the stopped registry's storage; empty when consistent."""
    problems = []
    db = open_readonly(root)
    try:
        result = db.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result}")
        dangling = db.execute(
            "SELECT count(*) FROM tag LEFT JOIN manifest ON tag.manifest_id = manifest.id "
            "WHERE manifest.id IS NULL").fetchone()[0]
        if dangling:
            problems.append(f"{dangling} tags name missing manifests")
        for digest, content in db.execute("SELECT digest, content FROM manifest"):
            if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
                problems.append(f"manifest row {digest} does not hash to its digest")
        for digest, size in db.execute("SELECT digest, size FROM blob"):
            algorithm, hexdigest = digest.split(":")
            path = root / "blobs" / algorithm / hexdigest[:2] / hexdigest
            if not path.exists():
                problems.append(f"blob row {digest} has no file")
            elif path.stat().st_size != size:
                problems.append(f"blob {digest}: file has {path.stat().st_size} bytes, row says {size}")
    finally:
        db.close()
    for path in (root / "blobs" / "sha256").glob("*/*"):
        if file_sha256(path) != path.name:
            problems.append(f"torn or corrupt blob file {path}")
    return problems


def upload_rows(root: Path) -> set[str]:
    db = open_readonly(root)
    try:
        return {row[0] for row in db.execute("SELECT id FROM upload")}
    finally:
        db.close()
