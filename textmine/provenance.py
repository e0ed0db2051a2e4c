"""Provenance: what made each figure and table, and a check that a rerun makes the same bytes.

`figures/MANIFEST.json` is written by `textmine run` (and by `save_figure` inside notebooks):

```json
{"figures": [{"name": "vocabulary_top_terms", "notebook": "10_vocabulary",
              "parameters": {"corpus": "corpus", "config": null, "output": "figures"},
              "files": [{"path": "figures/vocabulary_top_terms.pdf", "sha256": "…"}, …],
              "corpus_hash": "…"}, …],
 "tables": [{"name": "documents.csv", "path": "build/tables/documents.csv", "sha256": "…",
             "corpus_hash": "…"}, …],
 "run": {"corpus": "corpus", "config": null, "corpus_hash": "…"},
 "versions": {"python": "3.11.2", "textmine": "0.1.0", "matplotlib": "3.11.2", …},
 "git_commit": "…", "git_dirty": false}
```

Paths are relative to the folder that holds `figures/` (the project root), so the manifest
reads the same in every clone. Entries are sorted by name and the JSON by key, so two runs write
the same file except for `git_commit`, which names the code and is not part of any figure.
Writers hold a file lock, so notebooks running side by side never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from textmine.cache import atomic_write_bytes

MANIFEST_NAME = "MANIFEST.json"
_LOCK_NAME = ".MANIFEST.json.lock"
_SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git"}


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_hash(path: str | Path) -> str:
    """One SHA-256 over every file of a corpus folder (relative names and bytes, sorted).

    Any added, removed, renamed or edited file changes it; hidden files and notebook
    checkpoints do not.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: corpus not found")
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") or part in _SKIP_PARTS
                                   for part in p.relative_to(root).parts))
    h = hashlib.sha256()
    for f in files:
        rel = f.name if f == root else f.relative_to(root).as_posix()
        h.update(rel.encode("utf-8") + b"\x00")
        h.update(sha256_file(f).encode("ascii") + b"\x00")
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Python, textmine and every dependency textmine declares, with installed versions."""
    from packaging.requirements import Requirement

    found = {"python": platform.python_version()}
    try:
        found["textmine"] = metadata.version("textmine")
        requirements = metadata.requires("textmine") or []
    except metadata.PackageNotFoundError:
        from textmine import __version__

        found["textmine"] = __version__
        requirements = []
    names = set()
    for text in requirements:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.add(req.name)
    names.update({"fonttools", "pillow", "ipykernel", "nbclient", "jupyter-client"})
    for name in sorted(names, key=str.lower):
        try:
            found[name.lower()] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit(path: str | Path = ".") -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git work tree holding `path`; (None, None) outside git."""
    try:
        run = {"cwd": str(path), "capture_output": True, "text": True, "timeout": 10}
        head = subprocess.run(["git", "rev-parse", "HEAD"], **run)
        if head.returncode != 0:
            return None, None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no",
                                 "--", ".", ":!figures", ":!build"], **run)
        return head.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def relative_to_root(path: str | Path, root: str | Path) -> str:
    """`path` relative to the project root, POSIX-style, so the manifest reads the same in every
    clone; a path that is not inside the root or beside it stays absolute."""
    absolute = Path(path).resolve()
    rel = Path(os.path.relpath(absolute, Path(root).resolve())).as_posix()
    return absolute.as_posix() if rel.startswith("../..") else rel


def empty_manifest() -> dict[str, Any]:
    return {"figures": [], "tables": [], "run": {}, "versions": {}, "git_commit": None,
            "git_dirty": None}


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest file (a folder means its MANIFEST.json); missing → an empty manifest."""
    path = Path(path)
    if path.is_dir() or path.suffix != ".json":
        path = path / MANIFEST_NAME
    if not path.exists():
        return empty_manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("figures", []), list):
        raise ValueError(f"{path}: not a textmine manifest (no 'figures' list)")
    manifest = empty_manifest()
    manifest.update(data)
    return manifest


def dumps_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as stable JSON bytes: keys sorted, entries sorted by name."""
    data = dict(manifest)
    data["figures"] = sorted(data.get("figures", []), key=lambda e: e["name"])
    data["tables"] = sorted(data.get("tables", []), key=lambda e: e["path"])
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


@contextlib.contextmanager
def locked_manifest(outdir: str | Path) -> Iterator[dict[str, Any]]:
    """Read-modify-write `outdir/MANIFEST.json` under an exclusive lock, written atomically."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / _LOCK_NAME, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            manifest = read_manifest(outdir / MANIFEST_NAME)
            yield manifest
            root = outdir.resolve().parent
            commit, dirty = git_commit(root)
            manifest["versions"] = versions()
            manifest["git_commit"], manifest["git_dirty"] = commit, dirty
            atomic_write_bytes(outdir / MANIFEST_NAME, dumps_manifest(manifest))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _normalise_parameters(parameters: Mapping[str, Any], root: Path) -> dict[str, Any]:
    out = {}
    for key, value in parameters.items():
        if isinstance(value, str | Path) and str(value) and Path(value).exists():
            value = relative_to_root(value, root)
        out[key] = value
    return out


def record_figure(outdir: str | Path, name: str, files: Sequence[str | Path], *,
                  notebook: str | None = None, parameters: Mapping[str, Any] | None = None,
                  corpus: str | Path | None = None) -> dict[str, Any]:
    """Add or replace the manifest entry for figure `name` (files hashed now)."""
    outdir = Path(outdir)
    root = outdir.resolve().parent
    entry = {
        "name": name,
        "notebook": notebook,
        "parameters": _normalise_parameters(parameters or {}, root),
        "files": [{"path": relative_to_root(f, root), "sha256": sha256_file(f)} for f in files],
        "corpus_hash": corpus_hash(corpus) if corpus is not None and Path(corpus).exists()
        else None,
    }
    with locked_manifest(outdir) as manifest:
        manifest["figures"] = [e for e in manifest["figures"] if e["name"] != name] + [entry]
    return entry


def record_tables(outdir: str | Path, files: Sequence[str | Path], *,
                  corpus: str | Path | None = None) -> None:
    """Add or replace manifest entries for table files (hashed now)."""
    outdir = Path(outdir)
    root = outdir.resolve().parent
    digest = corpus_hash(corpus) if corpus is not None else None
    entries = [{"name": Path(f).name, "path": relative_to_root(f, root),
                "sha256": sha256_file(f), "corpus_hash": digest} for f in files]
    paths = {e["path"] for e in entries}
    with locked_manifest(outdir) as manifest:
        manifest["tables"] = [e for e in manifest["tables"] if e["path"] not in paths] + entries


def start_run(outdir: str | Path, corpus: str | Path, config: str | Path | None) -> dict:
    """Begin a fresh manifest for a full run; returns the previous one (to remove stale files)."""
    outdir = Path(outdir)
    root = outdir.resolve().parent
    with locked_manifest(outdir) as manifest:
        previous = json.loads(dumps_manifest(manifest))
        manifest.clear()
        manifest.update(empty_manifest())
        manifest["run"] = {
            "corpus": relative_to_root(corpus, root),
            "config": relative_to_root(config, root) if config else None,
            "corpus_hash": corpus_hash(corpus),
        }
    return previous


def remove_stale(outdir: str | Path, previous: Mapping[str, Any]) -> list[Path]:
    """Delete figure files the previous manifest listed and the current one no longer does."""
    outdir = Path(outdir)
    root = outdir.resolve().parent
    current = {f["path"] for e in read_manifest(outdir)["figures"] for f in e["files"]}
    removed = []
    for entry in previous.get("figures", []):
        for f in entry.get("files", []):
            path = root / f["path"]
            if f["path"] not in current and path.parent.resolve() == outdir.resolve() \
                    and path.exists():
                path.unlink()
                removed.append(path)
    return removed


@dataclass
class Difference:
    """A figure or table whose bytes differ from the manifest (or that is missing)."""

    kind: str  # figure | table
    name: str
    path: str
    expected: str | None
    found: str | None
    where: str  # rerun | on disk

    def __str__(self) -> str:
        if self.found is None:
            return f"{self.kind} {self.name}: {self.path} missing ({self.where})"
        if self.expected is None:
            return f"{self.kind} {self.name}: {self.path} not in the manifest ({self.where})"
        return (f"{self.kind} {self.name}: {self.path} differs ({self.where}): manifest "
                f"{self.expected[:12]}…, found {self.found[:12]}…")


@dataclass
class VerifyReport:
    """The outcome of `verify`: what was compared, what differs, which notebooks failed."""

    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.failures and self.checked > 0


def _compare(expected: Mapping[str, str], rerun_root: Path, disk_root: Path, kinds: dict,
             names: dict, report: VerifyReport) -> None:
    for rel, digest in sorted(expected.items()):
        report.checked += 1
        for where, base in (("rerun", rerun_root), ("on disk", disk_root)):
            if where == "on disk" and kinds[rel] == "table":
                continue  # tables live in the (uncommitted) build folder; the rerun decides
            path = base / rel
            found = sha256_file(path) if path.exists() else None
            if found != digest:
                report.differences.append(Difference(kinds[rel], names[rel], rel, digest, found,
                                                     where))


def verify(manifest_path: str | Path = "figures/MANIFEST.json", *, jobs: int = 1,
           quiet: bool = False, workdir: str | Path | None = None) -> VerifyReport:
    """Rerun the main job in a scratch folder and compare every file with the manifest.

    The corpus and config are the ones the manifest's run names; the committed figures are
    compared too. The manifest's git commit is not compared (it changes with every commit).
    """
    from textmine.notebooks import run_main_job

    manifest_path = Path(manifest_path)
    if manifest_path.is_dir():
        manifest_path = manifest_path / MANIFEST_NAME
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path}: no manifest; run `make run` first")
    manifest = read_manifest(manifest_path)
    figures_dir = manifest_path.parent
    root = figures_dir.resolve().parent
    run = manifest.get("run") or {}
    if not run.get("corpus"):
        raise ValueError(f"{manifest_path}: the manifest names no corpus (not written by "
                         "`textmine run`)")
    expected: dict[str, str] = {}
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    for entry in manifest["figures"]:
        for f in entry["files"]:
            expected[f["path"]], kinds[f["path"]], names[f["path"]] = (f["sha256"], "figure",
                                                                       entry["name"])
    for entry in manifest.get("tables", []):
        expected[entry["path"]], kinds[entry["path"]], names[entry["path"]] = (
            entry["sha256"], "table", entry["name"])

    report = VerifyReport()
    with tempfile.TemporaryDirectory(prefix="textmine-verify-", dir=workdir) as tmp:
        scratch = Path(tmp)
        rel_figures = figures_dir.resolve().relative_to(root)
        build_rel = {Path(p).parts[0] for p, k in kinds.items() if k == "table"}
        build_name = sorted(build_rel)[0] if build_rel else "build"
        # run from the project root with the manifest's relative paths, as `make run` does,
        # so that paths stored in tables read the same
        with contextlib.chdir(root):
            results = run_main_job(run["corpus"], config=run.get("config"),
                                   build=scratch / build_name, figures=scratch / rel_figures,
                                   notebooks="notebooks", jobs=jobs, quiet=quiet,
                                   html_report=False)
        report.failures = [str(r) for r in results if not r.ok]
        _compare(expected, scratch, root, kinds, names, report)
        rerun = read_manifest(scratch / rel_figures)
        for entry in rerun["figures"]:
            for f in entry["files"]:
                rel = (rel_figures / Path(f["path"]).name).as_posix()
                if rel not in expected:
                    report.differences.append(Difference("figure", entry["name"], rel, None,
                                                         f["sha256"], "rerun"))
    return report
