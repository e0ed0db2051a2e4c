"""Bad-input report and memory scaling: how every bad input is handled, and what a big run costs.

1. Runs the catalogue of tests/bad_inputs.py (the same cases as tests/test_reliability.py)
   through load → clean → tokenize → quantities → formulations and prints how many bad inputs
   were tried, how each was handled (read, refused with which reason) and that no file was lost.
2. With --corpus-mb SIZES: generates corpora of those sizes (national reports, each copy made
   distinct) and runs `textmine.pipeline.run_pipeline` on each in a fresh process, printing wall
   time and peak RSS side by side, so the growth of memory with corpus size can be read off.
3. With --line-mb N: one line of N MB through load + clean in a fresh process (time, peak RSS).

    .venv/bin/python benchmarks/bad_inputs.py [--corpus-mb 10,40] [--line-mb 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"

PIPELINE = r"""
import resource, sys, time
from textmine.cache import Cache
from textmine.pipeline import run_pipeline
t = time.perf_counter()
result = run_pipeline(sys.argv[1], sys.argv[2], cache=Cache(enabled=False), quiet=True,
                      topics=False)
print(result.n_documents, round(time.perf_counter() - t, 1),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""

LINE = r"""
import resource, sys, time
from textmine.clean import clean_corpus
from textmine.corpus import load_corpus
t = time.perf_counter()
clean = clean_corpus(load_corpus(sys.argv[1]))
print(int(clean.documents["n_chars"].iloc[0]), len(clean.sentences),
      round(time.perf_counter() - t, 1), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def bad_input_report() -> bool:
    """Run every case of the catalogue; print the table; True when all went as expected."""
    from bad_inputs import CASES, run_case, summary

    from textmine.segment import Tokenizer

    tokenizer = Tokenizer()
    outcomes = []
    with tempfile.TemporaryDirectory() as scratch:
        for i, case in enumerate(CASES):
            outcomes.append(run_case(case, Path(scratch) / f"case{i}", tokenizer))
    print(summary(outcomes))
    return all(o.ok for o in outcomes)


def make_corpus(folder: Path, megabytes: float) -> int:
    """National reports copied until the folder holds `megabytes` of UTF-8; each copy distinct."""
    reports = [p.read_text(encoding="utf-8") for p in sorted(NATIONAL.glob("*.txt"))]
    folder.mkdir(parents=True)
    size = n = 0
    while size < megabytes * 1024 * 1024:
        text = f"第{n}份\n" + reports[n % len(reports)]
        data = text.encode("utf-8")
        (folder / f"r{n:05d}.txt").write_bytes(data)
        size += len(data)
        n += 1
    return size


def corpus_scaling(sizes: list[float]) -> None:
    print(f"\n{'corpus MB':>9} {'documents':>9} {'seconds':>8} {'peak RSS MB':>11} "
          f"{'RSS / corpus':>12}")
    for mb in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            size = make_corpus(Path(scratch) / "in", mb)
            done = subprocess.run([sys.executable, "-c", PIPELINE, str(Path(scratch) / "in"),
                                   str(Path(scratch) / "out")], capture_output=True, text=True)
            if done.returncode:
                print(done.stderr[-2000:])
                continue
            n_docs, seconds, peak = done.stdout.split()
            print(f"{size / 2**20:9.1f} {int(n_docs):9d} {float(seconds):8.1f} {int(peak):11,d} "
                  f"{int(peak) / (size / 2**20):12.1f}")


def long_line(megabytes: float) -> None:
    unit = (ROOT / "corpus" / "jinan-party-building-report.txt").read_text(
        encoding="utf-8").replace("\n", "").encode("utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "line.txt"
        path.write_bytes(unit * int(megabytes * 2**20 / len(unit)))
        done = subprocess.run([sys.executable, "-c", LINE, str(path)], capture_output=True,
                              text=True)
        if done.returncode:
            print(done.stderr[-2000:])
            return
        n, n_sent, seconds, peak = done.stdout.split()
        print(f"\none line of {path.stat().st_size / 2**20:.0f} MB: {int(n):,} characters, "
              f"{int(n_sent):,} sentences, load + clean {seconds} s, peak RSS {int(peak):,} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-mb", default="", help="corpus sizes to run, e.g. 10,40")
    parser.add_argument("--line-mb", type=float, default=0, help="size of the one-line file")
    args = parser.parse_args()
    start = time.perf_counter()
    ok = bad_input_report()
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.line_mb:
        long_line(args.line_mb)
    if args.corpus_mb:
        corpus_scaling([float(v) for v in args.corpus_mb.split(",")])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
