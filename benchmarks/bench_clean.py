"""Cleaning throughput: MB of raw UTF-8 text cleaned per second of CPU, per corpus.

Run `python benchmarks/bench_clean.py [CORPORA_DIR]` (default: ../shared/corpora beside the
repository). Two paths are timed side by side in one process: `clean_text` (one document, with
its pandas tables) and `clean_corpus` (the pipeline's path: plain column lists per document,
one table per corpus). The target is at least 5 MB/s on one core. CPU time of this process
(`time.process_time`) is used because the machine is shared; compare the ratios, not the
absolute numbers across machines.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from textmine.clean import clean_corpus, clean_text
from textmine.corpus import Corpus

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB_PER_S = 5.0


def bench(files: list[Path]) -> tuple[float, float, float]:
    """CPU seconds of clean_text and of clean_corpus over `files`, and the MB they hold."""
    raws = [f.read_text(encoding="utf-8-sig") for f in files]
    size = sum(len(r.encode("utf-8")) for r in raws) / 1e6
    start = time.process_time()
    for raw in raws:
        clean_text(raw)
    one_by_one = time.process_time() - start
    corpus = Corpus.from_texts({str(i): raw for i, raw in enumerate(raws)})
    start = time.process_time()
    clean_corpus(corpus, n_jobs=1)
    return one_by_one, time.process_time() - start, size


def main() -> None:
    corpora = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpora"
    if not corpora.is_dir():
        sys.exit(f"{corpora}: corpora folder not found")
    rows = []
    for folder in sorted(p for p in corpora.iterdir() if p.is_dir()):
        files = sorted(f for f in folder.rglob("*.txt"))
        if files:
            text_s, corpus_s, mb = bench(files)
            rows.append({"corpus": folder.name, "files": len(files), "MB": mb,
                         "clean_text MB/s": mb / text_s, "clean_corpus MB/s": mb / corpus_s,
                         "_text_s": text_s, "_corpus_s": corpus_s})
    table = pd.DataFrame(rows)
    mb = table["MB"].sum()
    for path, column in (("clean_text", "_text_s"), ("clean_corpus", "_corpus_s")):
        rate = mb / table[column].sum()
        print(f"all corpora, {path}: {mb:.1f} MB at {rate:.2f} MB/s of CPU "
              f"(target {TARGET_MB_PER_S} MB/s: ratio {rate / TARGET_MB_PER_S:.2f})")
    print(table.drop(columns=["_text_s", "_corpus_s"]).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
