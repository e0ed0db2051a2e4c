"""`textmine doctor`: check the environment a run depends on and say what to fix.

Checks, each giving ok / warn / FAIL, a detail and, when not ok, the command that fixes it:

* Python: the version pyproject.toml requires and the one requirements.lock was made for;
* libraries: every package pinned in requirements.lock (markers evaluated for this interpreter)
  is installed at exactly the locked version;
* CJK font: the pinned Noto Sans SC is found, converted for embedding (`textmine.plots`) and
  matplotlib resolves its family — figures otherwise show boxes for Chinese;
* jieba: its dictionary (dict.txt) is present and loads, and the tokenizer with the bundled
  lexicon segments a test phrase as expected;
* cache: the cache folder (settings, $TEXTMINE_CACHE_DIR or the per-user folder) can be
  created and written atomically, with free space reported.

`diagnose()` returns the checks as a table; the command prints them and exits 1 when one fails.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DOCTOR_COLUMNS = ["check", "status", "detail", "fix"]
_LOCK_LINE = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$")
_INSTALL = "make test (or: .venv/bin/pip install -r requirements.lock)"


@dataclass
class Check:
    """One line of the diagnosis: ok, warn (works, but note it) or fail (fix this)."""

    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def repository_root() -> Path:
    """The folder holding pyproject.toml and requirements.lock (an editable install's source)."""
    return Path(__file__).resolve().parents[1]


def locked_versions(lock: Path) -> dict[str, str]:
    """Package → version pinned in a `uv pip compile` lock, markers evaluated for this Python."""
    from packaging.markers import Marker
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = _LOCK_LINE.match(line.strip())
        if m and (m.group(3) is None or Marker(m.group(3)).evaluate()):
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def check_python(root: Path) -> Check:
    """The interpreter against pyproject's requires-python and the lock's --python-version."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    version = ".".join(map(str, sys.version_info[:3]))
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        required = project["project"].get("requires-python", "")
    except (OSError, KeyError, ValueError):
        required = ""
    if required and version not in SpecifierSet(required):
        return Check("python", "fail", f"Python {version}; textmine requires {required}",
                     f"install Python {required} and recreate .venv (rm -rf .venv; make test)")
    locked_for = ""
    lock = root / "requirements.lock"
    if lock.is_file():
        m = re.search(r"--python-version\s+(\d+\.\d+)", lock.read_text(encoding="utf-8")[:2000])
        locked_for = m.group(1) if m else ""
    if locked_for and not version.startswith(locked_for + "."):
        return Check("python", "warn", f"Python {version}; the lock was resolved for "
                     f"{locked_for} (it is universal, but {locked_for} is what CI runs)",
                     f"use Python {locked_for} for byte-identical results")
    return Check("python", "ok", f"Python {version}" + (f" (requires {required})"
                                                       if required else ""))


def check_libraries(lock: Path) -> Check:
    """Every locked package installed at exactly its locked version."""
    from importlib.metadata import PackageNotFoundError, version

    if not lock.is_file():
        return Check("libraries", "fail", f"{lock}: lock file not found",
                     "run from the repository folder or give --lock requirements.lock")
    pins = locked_versions(lock)
    missing, wrong = [], []
    for name, pinned in sorted(pins.items()):
        try:
            installed = version(name)
        except PackageNotFoundError:
            missing.append(name)
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} (locked {pinned})")
    if missing or wrong:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} at another version: " + ", ".join(wrong[:8])
                         + (" …" if len(wrong) > 8 else ""))
        if missing:
            parts.append(f"{len(missing)} missing: " + ", ".join(missing[:8])
                         + (" …" if len(missing) > 8 else ""))
        return Check("libraries", "fail", "; ".join(parts), _INSTALL)
    return Check("libraries", "ok", f"{len(pins)} packages at their locked versions ({lock.name})")


def check_font() -> Check:
    """The CJK font of `textmine.plots`: present, converted, and resolved by matplotlib."""
    try:
        from matplotlib import font_manager

        from textmine import plots

        source = plots._source_font()
        if not source.is_file():
            return Check("cjk font", "fail", f"{source}: font file missing",
                         "pip install --force-reinstall pylopdf-fonts-zh-cn (pinned in the lock)")
        path = plots.cjk_font_path()
        family = plots.register_cjk_font()
        found = font_manager.findfont(font_manager.FontProperties(family=family),
                                      fallback_to_default=False)
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding
        return Check("cjk font", "fail", f"{type(exc).__name__}: {exc}",
                     f"{_INSTALL}; then check that the cache folder is writable")
    if Path(found).resolve() != path.resolve():
        return Check("cjk font", "warn", f"matplotlib resolves {family!r} to {found}, not {path}",
                     "remove matplotlib's font cache (~/.cache/matplotlib) and rerun")
    return Check("cjk font", "ok", f"{family} ({path})")


def check_jieba() -> Check:
    """jieba's dictionary present and loading; the tokenizer segments a known phrase."""
    try:
        import jieba

        from textmine.segment import Tokenizer, _jieba_dictionary

        dict_path = Path(jieba.__file__).with_name("dict.txt")
        if not dict_path.is_file():
            return Check("jieba", "fail", f"{dict_path}: jieba's dictionary is missing",
                         "pip install --force-reinstall jieba==" + jieba.__version__)
        freq, _ = _jieba_dictionary(str(dict_path))
        if len(freq) < 300_000:
            return Check("jieba", "fail", f"{dict_path}: only {len(freq):,} entries (damaged?)",
                         "pip install --force-reinstall jieba==" + jieba.__version__)
        tokens = Tokenizer().cut("全面从严治党，新增就业1256万人")
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding
        return Check("jieba", "fail", f"{type(exc).__name__}: {exc}", _INSTALL)
    if "全面从严治党" not in tokens or "1256万人" not in tokens:
        return Check("jieba", "fail", f"the tokenizer cuts a test phrase wrongly: {tokens}",
                     "check corpus/userdict.txt and the lexicons given in the settings")
    return Check("jieba", "ok", f"jieba {jieba.__version__}, {len(freq):,} dictionary entries, "
                 "bundled lexicon loads")


def check_cache(cache_dir: str | Path | None = None) -> Check:
    """The cache folder can be created and written atomically; free space reported; files
    that killed runs left anywhere in it are removed (never those of a running writer)."""
    from textmine.cache import atomic_write_bytes, default_cache_dir, sweep_stale_temporaries

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".doctor-{os.getpid()}"
        atomic_write_bytes(probe, b"textmine doctor")
        ok = probe.read_bytes() == b"textmine doctor"
        probe.unlink()
        leftovers = list(folder.glob(f".{probe.name}.*.tmp"))  # atomic_write_bytes's temp
    except OSError as exc:
        return Check("cache", "fail", f"{folder}: cannot write ({exc.strerror or exc})",
                     "set TEXTMINE_CACHE_DIR (or cache_dir in the settings) to a writable "
                     "folder, or run with use_cache = false")
    if not ok or leftovers:
        return Check("cache", "fail", f"{folder}: a written file did not read back",
                     "use a local disk for TEXTMINE_CACHE_DIR")
    swept = sweep_stale_temporaries(folder)
    note = f"; removed {len(swept)} temporary files left by stopped runs" if swept else ""
    free = shutil.disk_usage(folder).free
    if free < 512 * 1024 * 1024:
        return Check("cache", "warn",
                     f"{folder}: writable, only {free / 2**20:,.0f} MB free{note}",
                     "free disk space or point TEXTMINE_CACHE_DIR elsewhere")
    return Check("cache", "ok", f"{folder}: writable, {free / 2**30:,.1f} GB free{note}")


def diagnose(*, lock: str | Path | None = None, cache_dir: str | Path | None = None,
             checks: tuple[str, ...] = ("python", "libraries", "cjk font", "jieba", "cache")
             ) -> pd.DataFrame:
    """Run the checks; one row each (check, status, detail, fix)."""
    root = repository_root()
    lock_path = Path(lock) if lock is not None else root / "requirements.lock"
    runners: dict[str, Callable[[], Check]] = {
        "python": lambda: check_python(root),
        "libraries": lambda: check_libraries(lock_path),
        "cjk font": check_font,
        "jieba": check_jieba,
        "cache": lambda: check_cache(cache_dir),
    }
    rows = [runners[name]() for name in checks]
    return pd.DataFrame([vars(r) for r in rows], columns=DOCTOR_COLUMNS)


def report(table: pd.DataFrame) -> str:
    """The diagnosis as text: one line a check, the fix under each that is not ok."""
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    lines = []
    for row in table.itertuples():
        lines.append(f"{marks[row.status]}  {row.check:10} {row.detail}")
        if row.status != "ok" and row.fix:
            lines.append(f"      {'':10} fix: {row.fix}")
    failed = int((table["status"] == "fail").sum())
    lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
    return "\n".join(lines)
