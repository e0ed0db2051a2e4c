"""Peak memory of the whole pipeline as the corpus grows: flat, not proportional to the corpus.

    .venv/bin/python benchmarks/memory.py [--sizes 25,50,100,200] [--jobs 1] [--topics]

Builds corpora of about 25, 50, 100 and 200 MB in a temporary folder from
../shared/corpora/bench-laws (copies of its files under distinct names, each corpus folder
holding as many copies as its size needs: hard links where the file system allows, so building
them is quick and costs no disk), runs `textmine.pipeline.run_pipeline` on each folder in a
child process of its own (cache off, so every document is computed), and prints side by side:
documents, wall and CPU time, and the child's peak resident memory (VmHWM from /proc: unlike
`ru_maxrss` it is not inherited from this process across exec), with the ratio of the largest
corpus's peak to the smallest's. With `--jobs N` the pool workers' largest peak
(RUSAGE_CHILDREN) is printed too. Target: the 200 MB run within ~1.3× of the 25 MB run and
well under 1 GB.

The pipeline reads the folder one file at a time (`textmine.corpus.DocumentStream`), keeps a
window of batches in flight, streams every table to Parquet and keeps only the merged sparse
counts (12 bytes a non-zero count) and the vocabulary, which grow slowly with the corpus.
`--topics` adds the topic models (k from the settings' topic range; slow on large corpora).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_LAWS = ROOT.parent / "shared" / "corpora" / "bench-laws"

CHILD = r"""
import json, resource, sys, time
from textmine.cache import Cache
from textmine.pipeline import run_pipeline

def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

folder, out, jobs, topics = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
wall, cpu = time.perf_counter(), time.process_time()
result = run_pipeline(folder, out, cache=Cache(enabled=False), n_jobs=jobs, quiet=True,
                      topics=topics, topic_seeds=())
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"documents": result.n_documents, "wall": time.perf_counter() - wall,
                  "cpu": time.process_time() - cpu + kids.ru_utime + kids.ru_stime,
                  "peak_mb": status_kb("VmHWM") / 1024,
                  "workers_mb": kids.ru_maxrss / 1024}))
"""


def build_corpus(source: Path, folder: Path, megabytes: float) -> tuple[int, int]:
    """Copies of `source`'s .txt files (distinct names: c00-law-00001.txt, c01-…) until the
    folder holds `megabytes` of text; returns (files, bytes)."""
    files = sorted(source.glob("*.txt"))
    if not files:
        raise SystemExit(f"{source}: no .txt files to build corpora from")
    folder.mkdir(parents=True)
    target = megabytes * 2**20
    size = n = 0
    copy = 0
    while size < target:
        for f in files:
            if size >= target:
                break
            dest = folder / f"c{copy:02d}-{f.name}"
            try:
                os.link(f, dest)
            except OSError:
                shutil.copyfile(f, dest)
            size += f.stat().st_size
            n += 1
        copy += 1
    return n, size


def run_child(folder: Path, out: Path, jobs: int, topics: bool) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(out), str(jobs),
                           "1" if topics else "0"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"pipeline on {folder} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25,50,100,200", help="corpus sizes in MB")
    parser.add_argument("--corpus", type=Path, default=BENCH_LAWS,
                        help="folder whose .txt files are copied (default: bench-laws)")
    parser.add_argument("--jobs", type=int, default=1, help="pool workers (default 1)")
    parser.add_argument("--topics", action="store_true", help="fit the topic models too")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"{args.corpus}: not available", file=sys.stderr)
        return 1
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="textmine-memory-") as tmp:
        for mb in sizes:
            folder = Path(tmp) / f"corpus-{mb:g}mb"
            n_files, n_bytes = build_corpus(args.corpus, folder, mb)
            started = time.perf_counter()
            run = run_child(folder, Path(tmp) / f"out-{mb:g}mb", args.jobs, args.topics)
            run.update(mb=n_bytes / 2**20, files=n_files)
            rows.append(run)
            print(f"  {run['mb']:6.1f} MB: {run['documents']:,} documents, peak "
                  f"{run['peak_mb']:,.0f} MB ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr, flush=True)
            shutil.rmtree(Path(tmp) / f"out-{mb:g}mb", ignore_errors=True)
    what = "documents stages, matrices, IDF" + (", topics" if args.topics else "")
    print(f"run_pipeline on copies of {args.corpus.name} ({what}; jobs={args.jobs}, cache off)")
    print(f"{'corpus':>10} {'documents':>10} {'wall s':>8} {'cpu s':>8} {'peak RSS':>10}"
          + (f" {'workers':>10}" if args.jobs > 1 else ""))
    for r in rows:
        print(f"{r['mb']:8.1f}MB {r['documents']:>10,} {r['wall']:8.1f} {r['cpu']:8.1f} "
              f"{r['peak_mb']:8,.0f}MB" + (f" {r['workers_mb']:8,.0f}MB" if args.jobs > 1
                                          else ""))
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        ratio = last["peak_mb"] / first["peak_mb"]
        print(f"peak RSS {last['mb']:.0f} MB / {first['mb']:.0f} MB corpus: {ratio:.2f}× "
              f"(target ≤ 1.3×, and well under 1 GB: {last['peak_mb']:,.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
