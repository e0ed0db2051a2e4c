"""Loading speed: the bench-laws corpus read by `load_corpus`, against reading the bytes alone.

Prints wall times side by side and their ratio, and the cost of the legacy-encoding path
(GB18030 bytes through the detector) against the strict UTF-8 fast path on the same text.

    .venv/bin/python benchmarks/bench_corpus.py [FOLDER]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from textmine.corpus import decode_bytes, load_corpus

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "bench-laws"


def best_of(n: int, func) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not folder.is_dir():
        sys.exit(f"no corpus at {folder}")
    files = sorted(folder.glob("*.txt"))
    size = sum(f.stat().st_size for f in files)
    raw = best_of(3, lambda: [f.read_bytes().decode("utf-8") for f in files])
    loaded = best_of(3, lambda: load_corpus(folder))
    n_docs = len(load_corpus(folder))
    print(f"{folder.name}: {n_docs} documents, {size / 1e6:.1f} MB")
    print(f"  read+decode bytes only : {raw:6.2f} s")
    print(f"  load_corpus            : {loaded:6.2f} s  ({loaded / raw:.1f}x the bare read; "
          f"{size / 1e6 / loaded:.0f} MB/s)")

    text = "".join(f.read_text(encoding="utf-8") for f in files[:300])
    utf8, gb = text.encode("utf-8"), text.encode("gb18030")
    fast = best_of(3, lambda: decode_bytes(utf8))
    legacy = best_of(3, lambda: decode_bytes(gb))
    print(f"  {len(text):,} characters: UTF-8 fast path {fast * 1000:.0f} ms, "
          f"GB18030 via detector {legacy * 1000:.0f} ms ({legacy / fast:.0f}x)")


if __name__ == "__main__":
    main()
