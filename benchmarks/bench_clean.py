"""Cleaning throughput: MB of raw UTF-8 text cleaned per second, per corpus.

Run `python benchmarks/bench_clean.py [CORPORA_DIR]` (default: ../shared/corpora beside the
repository). The target is at least 5 MB/s on one core for `clean_text`; the numbers printed
are measured side by side in one process, so compare them with each other, not across machines.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from textmine.clean import clean_text

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB_PER_S = 5.0


def bench(files: list[Path]) -> tuple[float, float]:
    """Seconds spent in clean_text over `files` and the MB of UTF-8 they hold."""
    raws = [f.read_text(encoding="utf-8-sig") for f in files]
    size = sum(len(r.encode("utf-8")) for r in raws) / 1e6
    start = time.perf_counter()
    for raw in raws:
        clean_text(raw)
    return time.perf_counter() - start, size


def main() -> None:
    corpora = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpora"
    if not corpora.is_dir():
        sys.exit(f"{corpora}: corpora folder not found")
    total_s = total_mb = 0.0
    for folder in sorted(p for p in corpora.iterdir() if p.is_dir()):
        files = sorted(f for f in folder.rglob("*.txt"))
        if not files:
            continue
        seconds, mb = bench(files)
        total_s += seconds
        total_mb += mb
        print(f"{folder.name:36s} {len(files):5d} files {mb:7.2f} MB {seconds:7.2f} s "
              f"{mb / seconds:6.2f} MB/s")
    rate = total_mb / total_s
    print(f"{'all':36s} {'':11s} {total_mb:7.2f} MB {total_s:7.2f} s {rate:6.2f} MB/s "
          f"(target {TARGET_MB_PER_S} MB/s: ratio {rate / TARGET_MB_PER_S:.2f})")


if __name__ == "__main__":
    main()
