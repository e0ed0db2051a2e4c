"""Interrupted and concurrent runs: old file or new file, never a torn one; runs side by side.

* A writer process (tables, cache entries) is killed with SIGKILL at random moments: what is on
  disk is always a whole old or whole new file, and the next write succeeds.
* `textmine ingest` is killed at random moments while it replaces the tables of an earlier run:
  every table is byte for byte the old one or the new one, and the next run completes.
* Two `textmine ingest` runs, two `textmine tokens` runs and two pipeline runs at once on the
  same cache and output folder both succeed and leave the same tables as a run on its own.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from textmine.cache import _MAGIC, Cache, atomic_write_bytes
from textmine.tables import read_table, write_table

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"
ROWS = 150_000

WRITER = r"""
import itertools, sys
import pandas as pd
from textmine.cache import Cache
from textmine.tables import write_table
path, kind = sys.argv[1], sys.argv[2]
frames = [pd.DataFrame({"version": [v] * ROWS, "text": ["党建引领基层治理"] * ROWS})
          for v in (1, 2)]
print("ready", flush=True)
for i in itertools.count():
    if kind == "cache":
        Cache(path).put("tokens", "key", ("version", 1 + i % 2, "汉" * 3_000_000))
    else:
        write_table(frames[i % 2], path)
""".replace("ROWS", str(ROWS))


def _env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if cache is not None:
        env["TEXTMINE_CACHE_DIR"] = str(cache)
    return env


def _kill_at_random(cmd: list[str], rng: random.Random, low: float, high: float,
                    wait_for_ready: bool = False, env: dict[str, str] | None = None) -> bool:
    """Start `cmd`, SIGKILL it after a random delay; True when it was still running."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    if wait_for_ready:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    time.sleep(rng.uniform(low, high))
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
    return running


def test_table_writer_killed_leaves_old_or_new_table(tmp_path: Path) -> None:
    path = tmp_path / "table.parquet"  # CSV goes through the same atomic_write_bytes
    rng = random.Random(3)
    for _ in range(2):
        assert _kill_at_random([sys.executable, "-c", WRITER, str(path), "table"], rng,
                               0.05, 0.6, wait_for_ready=True)
        if path.exists():
            table = read_table(path)
            assert len(table) == ROWS  # whole, never torn
            assert table["version"].nunique() == 1 and table["version"].iloc[0] in (1, 2)
    assert path.exists()
    write_table(pd.DataFrame({"version": [3]}), path)  # the next run completes normally
    assert read_table(path)["version"].tolist() == [3]
    # a SIGKILL can leave its temporary file, never the table torn; the next write removes it
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cache_writer_killed_leaves_whole_entries(tmp_path: Path) -> None:
    rng = random.Random(7)
    cache_dir = tmp_path / "cache"
    entry = cache_dir / "tokens" / "ke" / "key"
    for _ in range(2):
        assert _kill_at_random([sys.executable, "-c", WRITER, str(cache_dir), "cache"], rng,
                               0.05, 0.5, wait_for_ready=True)
        if entry.exists():
            import hashlib

            blob = entry.read_bytes()
            assert blob[:4] == _MAGIC and hashlib.sha256(blob[36:]).digest() == blob[4:36]
            found, value = Cache(cache_dir).get("tokens", "key")
            assert found and value[1] in (1, 2) and len(value[2]) == 3_000_000
    assert Cache(cache_dir).get_or_compute("tokens", "other", lambda: 42) == 42
    Cache(cache_dir).put("tokens", "key", "again")  # the next write of the entry: no leftover
    assert [p.name for p in entry.parent.iterdir()] == ["key"]
    assert Cache(cache_dir).get("tokens", "key") == (True, "again")


def test_only_temporary_files_of_finished_writers_are_removed(tmp_path: Path) -> None:
    """A killed writer's temporary file goes; a running writer's (here: a live process, and a
    recent file of the old unnamed kind) stays, even while another run writes the same file."""
    from textmine.cache import _HOST, STALE_SECONDS, remove_stale_temporaries

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    try:
        names = {
            "live": f".table.csv.{_HOST}-{sleeper.pid}.abcd1234.tmp",
            "mine": f".table.csv.{_HOST}-{os.getpid()}.abcd1234.tmp",
            "dead": f".table.csv.{_HOST}-{dead_pid}.abcd1234.tmp",
            "other-host": f".table.csv.elsewhere-{dead_pid}.abcd1234.tmp",
            "old-recent": ".table.csv.k3j_x9a2.tmp",
            "old-stale": ".tokens.q8w7e6r5.parquet.tmp",
            "not-ours": ".notes.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"half")
        old = time.time() - STALE_SECONDS - 60
        os.utime(tmp_path / names["old-stale"], (old, old))
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "table.csv")
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {"table.csv", *(names[k] for k in ("live", "mine", "other-host",
                                                          "old-recent", "not-ours"))}
        os.utime(tmp_path / names["other-host"], (old, old))  # another host's: by age only
        assert remove_stale_temporaries(tmp_path) == [tmp_path / names["other-host"]]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale_temporaries(tmp_path) == [tmp_path / names["live"]]


def test_torn_cache_entry_is_recomputed_not_returned(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put("tokens", "abc", list(range(1000)))
    entry = tmp_path / "tokens" / "ab" / "abc"
    entry.write_bytes(entry.read_bytes()[:200])  # as a copy tool cut short would leave it
    assert cache.get("tokens", "abc") == (False, None)
    assert not entry.exists()
    assert cache.get_or_compute("tokens", "abc", lambda: "fresh") == "fresh"


def test_file_entries_are_copied_whole_or_not_at_all(tmp_path: Path) -> None:
    """Files stored in the cache (the pipeline's matrices) come back byte for byte; a torn entry
    is deleted and leaves the destination as it was."""
    cache = Cache(tmp_path / "cache")
    source = tmp_path / "matrix.npz"
    source.write_bytes(os.urandom(3_000_000))
    cache.put_file("files", "m", source)
    assert cache.get_file("files", "m", tmp_path / "copy.npz")
    assert (tmp_path / "copy.npz").read_bytes() == source.read_bytes()
    entry = tmp_path / "cache" / "files" / "m" / "m"
    entry.write_bytes(entry.read_bytes()[:1_000_000])  # cut short
    (tmp_path / "old.npz").write_bytes(b"old")
    assert not cache.get_file("files", "m", tmp_path / "old.npz")
    assert (tmp_path / "old.npz").read_bytes() == b"old" and not entry.exists()
    assert not cache.get_file("files", "missing", tmp_path / "old.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "copy.npz", "matrix.npz",
                                                         "old.npz"]


def test_atomic_writes_keep_the_usual_file_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    atomic_write_bytes(tmp_path / "t.csv", b"a\n")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    for name in ("t.csv", "t.parquet"):  # not mkstemp's 0600: others may read the tables
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask


def _corpus(folder: Path, years: tuple[int, ...]) -> Path:
    if not NATIONAL.is_dir():
        pytest.skip("../shared/corpora not available")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, folder)
    for year in years:
        shutil.copy(NATIONAL / f"{year}.txt", folder)
    return folder


def _ingest(corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "textmine", "ingest", str(corpus), "--out", str(out),
            "--quiet"]


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def test_ingest_killed_midway_leaves_old_or_new_tables(tmp_path: Path) -> None:
    old_in = _corpus(tmp_path / "old", (2000,))
    new_in = _corpus(tmp_path / "new", (2000, 2019))
    subprocess.run(_ingest(old_in, tmp_path / "ref-old"), check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(_ingest(new_in, tmp_path / "ref-new"), check=True, capture_output=True)
    duration = time.perf_counter() - start
    old, new = _snapshot(tmp_path / "ref-old"), _snapshot(tmp_path / "ref-new")
    assert old.keys() == new.keys() and all(old[k] != new[k] for k in old if "skipped" not in k)
    out = tmp_path / "out"
    shutil.copytree(tmp_path / "ref-old", out)
    rng = random.Random(11)
    for _ in range(3):  # killed between start-up and the end of a normal run
        _kill_at_random(_ingest(new_in, out), rng, 0.3 * duration, 0.95 * duration)
        now = _snapshot(out)
        assert now.keys() == old.keys()
        for name, data in now.items():
            assert data in (old[name], new[name]), f"{name} is neither the old nor the new table"
    done = subprocess.run(_ingest(new_in, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _snapshot(out) == new
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]  # leftovers removed


def test_two_ingest_runs_at_once_on_the_same_folder(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in", (2019,))
    subprocess.run(_ingest(corpus, tmp_path / "alone"), check=True, capture_output=True)
    out = tmp_path / "shared-out"
    runs = [subprocess.Popen(_ingest(corpus, out), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_env(tmp_path / "cache"))
            for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    assert _snapshot(out) == _snapshot(tmp_path / "alone")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_two_token_runs_at_once_share_one_cache(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in", (2019,))
    cache = tmp_path / "cache"

    def tokens(out: Path) -> list[str]:
        return [sys.executable, "-m", "textmine", "tokens", str(corpus), "--cache-dir",
                str(cache), "--out", str(out), "--quiet"]

    runs = [subprocess.Popen(tokens(tmp_path / "tokens.parquet"), stderr=subprocess.PIPE)
            for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    first = pd.read_parquet(tmp_path / "tokens.parquet")
    subprocess.run(tokens(tmp_path / "again.parquet"), check=True, capture_output=True)
    again = pd.read_parquet(tmp_path / "again.parquet")  # from the cache the two runs wrote
    pd.testing.assert_frame_equal(first, again)
    assert len(first) > 10_000


PIPELINE = r"""
import sys
from textmine.cache import Cache
from textmine.pipeline import run_pipeline
run_pipeline(sys.argv[1], sys.argv[2], cache=Cache(sys.argv[3]), quiet=True, topics=False)
"""


def test_two_pipeline_runs_at_once_on_the_same_cache_and_folder(tmp_path: Path) -> None:

    corpus = _corpus(tmp_path / "in", (2019,))
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    runs = [subprocess.Popen([sys.executable, "-c", PIPELINE, str(corpus), str(out), str(cache)],
                             stderr=subprocess.PIPE) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-3000:]
    alone = tmp_path / "alone"
    _run_pipeline(corpus, alone, tmp_path / "other-cache")
    _assert_same_tables(out, alone)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def _run_pipeline(corpus: Path, out: Path, cache: Path) -> None:
    """The pipeline on `corpus` in a process of its own, into `out` with the cache `cache`."""
    subprocess.run([sys.executable, "-c", PIPELINE, str(corpus), str(out), str(cache)],
                   check=True, capture_output=True)


def _assert_same_tables(out: Path, other: Path) -> None:
    from textmine.pipeline import DOCUMENT_TABLES

    for name in DOCUMENT_TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_parquet(other / f"{name}.parquet"))


def test_pipeline_killed_while_writing_leaves_nothing_after_the_next_run(tmp_path: Path) -> None:
    """A pipeline run is killed while its temporary files exist (tables being streamed, counts
    spilled): the old tables stay whole, and the next run removes the leftovers and completes
    with the tables of a run on its own."""

    corpus = _corpus(tmp_path / "in", (2000, 2019))
    alone, out = tmp_path / "alone", tmp_path / "out"
    _run_pipeline(corpus, alone, tmp_path / "cache-alone")
    shutil.copytree(alone, out)
    before = _snapshot(out)
    (corpus / "2019.txt").write_text((corpus / "2019.txt").read_text(encoding="utf-8") + "\n补充。",
                                     encoding="utf-8")  # a changed input: the run has work to do
    proc = subprocess.Popen([sys.executable, "-c", PIPELINE, str(corpus), str(out),
                             str(tmp_path / "cache")], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    left: list[str] = []
    while not left and proc.poll() is None and time.monotonic() < deadline:
        left = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert left, "the run was not caught writing"
    assert _snapshot(out) == before  # killed mid-write: the old tables, whole
    done = subprocess.run([sys.executable, "-c", PIPELINE, str(corpus), str(out),
                           str(tmp_path / "cache")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    fresh = tmp_path / "fresh"
    _run_pipeline(corpus, fresh, tmp_path / "cache-fresh")
    _assert_same_tables(out, fresh)
