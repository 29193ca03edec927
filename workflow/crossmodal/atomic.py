"""Atomic file writes: write to a temporary name next to the target, then rename into place.

``os.replace`` within one directory is atomic on POSIX, so a reader (or a crashed run) sees
either the old file, the complete new one, or none, never a partial file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_sibling(path: str | Path) -> Path:
    """A fresh temporary path next to ``path`` with the same suffix,
    e.g. ``foo.png`` -> ``foo.tmp-<pid>-<random>.png``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")


def _remove_if_present(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix) to write to; on normal exit it is
    renamed onto ``path`` (parent directories created first); on an exception (or a failed
    rename) the temporary file is deleted and the exception re-raised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove_if_present(tmp)
        raise


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
