"""On-disk cache of per-document results, keyed by everything that changes them.

Entries are written atomically (temporary file + rename) and carry a checksum, so a run killed
mid-write or two runs sharing the folder never hand back a torn entry: a bad entry is deleted
and recomputed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")

_MAGIC = b"TMC1"
_FILE_MAGIC = b"TMF1"  # an entry holding a file's bytes as they are (put_file / get_file)


class _TornEntry(Exception):
    """A cache entry that is not whole (a killed or failed write, a damaged disk)."""


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


#: A temporary file whose writer's process is gone, or (named without a process, or by a
#: process on another machine) untouched for this many seconds, is left over from a killed run.
STALE_SECONDS = 24 * 3600
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:32] or "host"
#: `.NAME.HOST-PID.RANDOM.tmp` (this module's temporary files) or `.NAME.RANDOM.tmp` and
#: `.NAME.RANDOM.parquet.tmp` (the names earlier versions used; mkstemp's random part).
_TEMPORARY = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.)?"
                        r"[A-Za-z0-9_]{8}(?:\.parquet)?\.tmp$")


def temporary_path(path: str | Path) -> Path:
    """A new, empty temporary file beside `path` (`.NAME.HOST-PID.RANDOM.tmp`), to be renamed
    onto `path` when complete. The writer's host and process id in the name let a later run
    tell a killed writer's leftover (`remove_stale_temporaries`) from a live writer's file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_HOST}-{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600: give the mode a plain write would
    finally:
        os.close(fd)
    return Path(tmp)


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs (another user's counts: signalling it is refused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def is_stale_temporary(path: str | Path, now: float | None = None) -> bool:
    """Whether `path` is a temporary file of `atomic_write_bytes` / `temporary_path` that no
    running writer will finish: its process (on this host) is gone, or it is older than
    `STALE_SECONDS` (names without a process, or from another host). A file of a live process
    is never stale, however old, unless the age limit says its writer stopped long ago."""
    path = Path(path)
    m = _TEMPORARY.match(path.name)
    if m is None:
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    if m.group("pid") is not None and m.group("host") == _HOST:
        pid = int(m.group("pid"))
        if pid != os.getpid() and not _process_alive(pid):
            return True
    return age > STALE_SECONDS


def remove_stale_temporaries(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete the temporary files a killed writer left in `folder` (only those of `name` when
    given); temporary files of writers still running are kept. Returns what was removed."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(".tmp") or not entry.name.startswith("."):
            continue
        if name is not None and not entry.name.startswith(f".{name}."):
            continue
        if is_stale_temporary(entry.path, now):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass  # removed meanwhile by another run, or not ours to remove
    return removed


def sweep_stale_temporaries(root: str | Path) -> list[Path]:
    """`remove_stale_temporaries` in `root` and every folder below it: what killed runs left
    anywhere in a cache (a write cleans only its own folder). Returns what was removed."""
    removed: list[Path] = []
    for folder, _, _ in os.walk(root):
        removed.extend(remove_stale_temporaries(folder))
    return removed


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: it replaces `path` (fsynced, renamed) when the
    block ends without an exception, and is removed otherwise; readers see the old file or the
    new one, never a mix. Temporary files that killed writers left in the same folder are
    removed afterwards."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    remove_stale_temporaries(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix
    (see `atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


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

    def put_file(self, namespace: str, key: str, path: str | Path) -> None:
        """Store a copy of the file at `path` (streamed: a large file is never all in memory)."""
        if not self.enabled:
            return
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            with atomic_writer(self._path(namespace, key)) as out, open(path, "rb") as f:
                out.write(_FILE_MAGIC + digest.digest())
                shutil.copyfileobj(f, out, 1 << 20)
        except OSError:
            pass  # a read-only or full cache folder slows a run down; it never fails it

    def get_file(self, namespace: str, key: str, dest: str | Path) -> bool:
        """Copy a file stored by `put_file` to `dest` (atomically); False when the entry is
        missing, torn or corrupt (then it is deleted and `dest` is left as it was)."""
        if not self.enabled:
            return False
        source = self._path(namespace, key)
        try:
            with open(source, "rb") as f:
                head = f.read(36)
                if len(head) < 36 or head[:4] != _FILE_MAGIC:
                    raise _TornEntry
                digest = hashlib.sha256()
                with atomic_writer(dest) as out:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
                    if digest.digest() != head[4:]:
                        raise _TornEntry
        except FileNotFoundError:
            return False
        except _TornEntry:
            source.unlink(missing_ok=True)
            return False
        return True

    def get_or_compute(self, namespace: str, key: str, compute: Callable[[], T]) -> T:
        found, value = self.get(namespace, key)
        if found:
            self.hits += 1
            return value
        self.misses += 1
        value = compute()
        self.put(namespace, key, value)
        return value
