"""Segmentation speed, side by side: plain `jieba.lcut` against `textmine.tokenize` with POS.

Each measurement runs in a fresh Python process (so "cold" is cold and peak memory is its own)
on the cleaned national government work reports, all blocks (`kinds=None`), one process:

    .venv/bin/python benchmarks/segment.py [CORPUS_DIR] [--repeat N]

Printed: MB/s (UTF-8 bytes of cleaned text per second of wall-clock time), the ratio to
`jieba.lcut`, the same ratio on CPU time of the process (steadier on a shared machine, where
other work stretches wall-clock time), and the peak resident memory of the process.
(jieba.posseg, jieba's own POS tagger, is left out: it is an order of magnitude slower than
jieba.lcut.) Rows:
- jieba.lcut — jieba initialised first (its dictionary load not timed), as usually quoted;
- tokenize cold, start-up included — new process, new Tokenizer, empty cache;
- tokenize cold, tokenizer ready — the same after one tiny `tokenize` call (dictionary built,
  modules imported), cache still empty: the throughput a long run sees;
- tokenize warm cache — a new process and Tokenizer reading the cache the cold run wrote;
- parts of the cold run: the span detector (textmine.spans) and jieba-rs tagging alone.
Last, the ratio of the tokenizer-ready row within each repeat, to show the spread.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / \
    "gov-work-reports-national"


def _texts(corpus: str):
    from textmine.clean import clean_corpus
    from textmine.corpus import load_corpus

    clean = clean_corpus(load_corpus(corpus))
    return clean, list(clean.documents["text"])


def _phase(name: str, corpus: str, cache_dir: str) -> dict:
    clean, texts = _texts(corpus)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if name == "jieba":
        import jieba

        jieba.initialize()
        t0, c0 = time.perf_counter(), time.process_time()
        for text in texts:
            jieba.lcut(text)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    elif name in ("cold", "warm"):
        from textmine.segment import Tokenizer, tokenize

        t0, c0 = time.perf_counter(), time.process_time()
        df = tokenize(clean, Tokenizer(), kinds=None, cache_dir=cache_dir)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert df.attrs["cache"]["hits" if name == "warm" else "misses"] == len(texts)
    elif name == "cold-ready":
        from textmine.segment import Tokenizer, tokenize

        tok = Tokenizer()
        tokenize("预热。", tok, use_cache=False)  # imports and dictionary: start-up, not timed
        t0, c0 = time.perf_counter(), time.process_time()
        tokenize(clean, tok, kinds=None, use_cache=False)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    elif name == "spans":
        from textmine.spans import detect_spans

        t0, c0 = time.perf_counter(), time.process_time()
        for text in texts:
            detect_spans(text)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    elif name == "rjieba-tag":
        import rjieba

        engine = rjieba.Jieba()
        t0, c0 = time.perf_counter(), time.process_time()
        for text in texts:
            engine.tag(text)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    else:
        raise SystemExit(f"unknown phase {name}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu": cpu, "bytes": n_bytes, "peak_mb": peak_mb}


def _run(name: str, corpus: str, cache_dir: str) -> dict:
    out = subprocess.run([sys.executable, __file__, corpus, "--phase", name,
                          "--cache-dir", cache_dir], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT))
    parser.add_argument("--phase")
    parser.add_argument("--cache-dir")
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N runs")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(_phase(args.phase, args.corpus, args.cache_dir)))
        return
    if not Path(args.corpus).is_dir():
        raise SystemExit(f"{args.corpus}: not a folder (the national reports are expected in "
                         "../shared/corpora)")
    rows = [("jieba.lcut", "jieba"),
            ("tokenize cold, start-up included", "cold"),
            ("tokenize cold, tokenizer ready", "cold-ready"),
            ("tokenize warm cache", "warm"),
            ("  part: span detector alone", "spans"),
            ("  part: jieba-rs tag alone", "rjieba-tag")]
    results = {}
    per_repeat: list[dict[str, dict]] = []
    for _ in range(args.repeat):
        per_repeat.append({})
        with tempfile.TemporaryDirectory() as cache_dir:
            for _, phase in rows:
                r = _run(phase, args.corpus, cache_dir)
                per_repeat[-1][phase] = dict(r)
                best = results.get(phase)
                if best is not None:
                    r["cpu"] = min(r["cpu"], best["cpu"])  # best wall and best CPU time
                if best is None or r["seconds"] < best["seconds"]:
                    results[phase] = r
                else:
                    best["cpu"] = r["cpu"]
    base = results["jieba"]["bytes"] / results["jieba"]["seconds"] / 1e6
    base_cpu = results["jieba"]["cpu"]
    print(f"corpus: {args.corpus} ({results['jieba']['bytes'] / 1e6:.2f} MB cleaned text), "
          f"one process, best of {args.repeat}")
    print(f"{'':40s} {'MB/s':>8s} {'× lcut':>8s} {'seconds':>8s} {'CPU s':>8s} {'× (CPU)':>8s} "
          f"{'peak MB':>8s}")
    for label, phase in rows:
        r = results[phase]
        mbs = r["bytes"] / r["seconds"] / 1e6
        print(f"{label:40s} {mbs:8.2f} {mbs / base:8.2f} {r['seconds']:8.2f} {r['cpu']:8.2f} "
              f"{base_cpu / r['cpu']:8.2f} {r['peak_mb']:8.0f}")
    # The ratio within each repeat (the phases of one repeat run one after the other): its
    # spread shows how much the machine's state moves the ratio from run to run.
    ratios = [rep["jieba"]["seconds"] / rep["cold-ready"]["seconds"] for rep in per_repeat]
    print("tokenize cold, tokenizer ready, × lcut within each repeat: "
          + ", ".join(f"{x:.2f}" for x in ratios))


if __name__ == "__main__":
    main()
