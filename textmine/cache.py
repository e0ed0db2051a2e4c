"""On-disk cache of per-document results, keyed by everything that changes them.

Entries are written atomically (temporary file + rename) and carry a checksum, so a run killed
mid-write or two runs sharing the folder never hand back a torn entry: a bad entry is deleted
and recomputed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_MAGIC = b"TMC1"


def _file_mode() -> int:
    """The mode `open(path, "w")` gives a new file: 0666 less the process's umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def default_cache_dir() -> Path:
    """`$TEXTMINE_CACHE_DIR`, else `$XDG_CACHE_HOME/textmine`, else `~/.cache/textmine`."""
    env = os.environ.get("TEXTMINE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textmine"


def make_key(*parts: Any) -> str:
    """A stable hex key from strings, bytes, numbers and (nested) tuples of them."""
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode("utf-8") if not isinstance(part, bytes) else part)
        h.update(b"\x00")
    return h.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600: give the mode a plain write would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Cache:
    """A folder of pickled values under `namespace/ab/abcdef…`; `enabled=False` makes it a no-op.

    Picklable, so process-pool and Dask workers can share one (they write to the same folder).
    """

    def __init__(self, directory: str | Path | None = None, enabled: bool = True):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, namespace: str, key: str) -> Path:
        return self.directory / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> tuple[bool, Any]:
        """Return (found, value); a missing, torn or corrupt entry counts as not found."""
        if not self.enabled:
            return False, None
        path = self._path(namespace, key)
        try:
            blob = path.read_bytes()
        except OSError:
            return False, None
        if len(blob) < 36 or blob[:4] != _MAGIC or hashlib.sha256(blob[36:]).digest() != blob[4:36]:
            path.unlink(missing_ok=True)
            return False, None
        try:
            return True, pickle.loads(blob[36:])
        except Exception:
            path.unlink(missing_ok=True)
            return False, None

    def put(self, namespace: str, key: str, value: Any) -> None:
        if not self.enabled:
            return
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        blob = _MAGIC + hashlib.sha256(payload).digest() + payload
        try:
            atomic_write_bytes(self._path(namespace, key), blob)
        except OSError:
            pass  # a read-only or full cache folder slows a run down; it never fails it

    def get_or_compute(self, namespace: str, key: str, compute: Callable[[], T]) -> T:
        found, value = self.get(namespace, key)
        if found:
            self.hits += 1
            return value
        self.misses += 1
        value = compute()
        self.put(namespace, key, value)
        return value
