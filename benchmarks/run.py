"""Speed and scale of textmine, side by side with plain jieba, in one run on one corpus.

    python benchmarks/run.py [CORPUS] [--jobs 2] [--limit N] [--no-dask] [--topics-k K]

CORPUS defaults to ../shared/corpora/gov-work-reports-national; run it on
../shared/corpora/bench-laws (58 MB) for the scale figures. Printed, each as MB/s of raw UTF-8
text and as a ratio to plain `jieba.lcut` in one process (wall-clock time, so that pools count):

* plain jieba.lcut, one process (the reference);
* textmine clean + tokenize (with POS), 1 and N workers;
* quantities and formulations alone, one process (on cleaned text);
* the document stages together (clean + tokenize with POS + quantities + formulations), 1 and
  N workers, each document's results sent back to the main process — the target is ≥ 4× plain
  jieba with 2 workers;
* the pipeline's document step, 1 and N workers: the same stages plus what the pipeline makes
  of them in the workers (Arrow tables, partial document-feature counts);
* the full pipeline (`textmine.pipeline.run_pipeline`: the stages, Parquet output, merged
  matrices, IDF, topics), cold, then warm (same folder: nothing to do) and warm into a new
  folder (every document from the cache) — target: warm ≥ 10× faster than cold, and on
  bench-laws the cold run under 2 minutes;
* the same document stages on a Dask LocalCluster with N workers (loopback, no dashboard)
  against the local pool — target: within 15 %; the cluster starts fresh (started and
  textmine imported before timing, as pool workers fork with it imported), so each worker
  builds its tokenizer during the run (as each forked pool worker does); then each
  of the two runs again in the same process (imports done) and, for Dask, on the same cluster,
  whose workers have kept their tokenizers, as on a cluster that outlives one run;
* peak memory of each pipeline run, which runs in a child process of its own: the child's
  peak resident set (VmHWM; `ru_maxrss` would inherit this benchmark's own peak across exec),
  the peak of the resident sets of the child and all its workers summed (sampled 5 times a
  second), and RUSAGE_CHILDREN's largest worker — target under 2 GB for the full pipeline on
  bench-laws.

The machine may be shared, so timings are noisy: the ratios, measured minutes apart in the same
run, are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"

_TOKENIZERS: dict[str, Any] = {}


def _tokenizer() -> Any:
    """One tokenizer a process (its dictionary takes seconds to build)."""
    if "default" not in _TOKENIZERS:
        from textmine.segment import Tokenizer

        _TOKENIZERS["default"] = Tokenizer()
    return _TOKENIZERS["default"]


def clean_and_tokenize(batch: list[tuple[str, str]]) -> int:
    """Clean then tokenize (with POS) each raw text of a batch; returns the token count."""
    from textmine.clean import _clean_columns
    from textmine.config import DEFAULT_ANALYSIS_KINDS

    tok = _tokenizer()
    n = 0
    for _, raw in batch:
        c = _clean_columns(raw)
        kinds = c.blocks["kind"]
        s = c.sentences
        sentences = [(i, a, b) for i, a, b, blk in zip(s["sent_id"], s["start"], s["end"],
                                                       s["block_id"], strict=True)
                     if kinds[blk] in DEFAULT_ANALYSIS_KINDS]
        n += len(tok.tokenize_document(c.text, sentences)["token"])
    return n


def document_stages(batch: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """The four document stages of the targets (clean, tokenize with POS, formulations,
    quantities) on each raw text of a batch, as the pipeline runs them, returned whole to the
    caller: cleaned columns, tokens (`Tokenizer.compact`), formulation and figure rows."""
    from textmine.pipeline import _STAGES_IN_PROCESS, DocumentStages

    stages = _STAGES_IN_PROCESS.get("benchmark")
    if stages is None:
        stages = _STAGES_IN_PROCESS["benchmark"] = DocumentStages(_tokenizer())
    out = []
    for doc_id, raw in batch:
        clean, sent_kind, tokens, formulations, figures = stages.stage_outputs(doc_id, raw)
        out.append((clean, sent_kind, stages.tokenizer.compact(tokens), formulations, figures))
    return out


def _batches(texts: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    from textmine.pipeline import BATCH_CHARS, BATCH_DOCUMENTS

    out: list[list[tuple[str, str]]] = [[]]
    size = 0
    for item in texts:
        if size >= BATCH_CHARS or len(out[-1]) >= BATCH_DOCUMENTS:
            out.append([])
            size = 0
        out[-1].append(item)
        size += len(item[1])
    return [b for b in out if b]


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes (pool workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _own_cpu() + kids.ru_utime + kids.ru_stime


def _timed(func: Any) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds including the workers') of `func()`."""
    wall, cpu = time.perf_counter(), _cpu()
    func()
    return time.perf_counter() - wall, _cpu() - cpu


def _drain(iterator: Any) -> None:
    for _ in iterator:
        pass


# ------------------------------------------------------------------------------ child runs
def _status_kb(pid: int | str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """Process ids under `root` (Linux /proc), the pool and Dask workers included."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for kid in parents.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (5 times a second)
    and keeps the peak of the sum: the memory the run needed, workers included. Pages that
    forked workers share with their parent count twice, so this errs high."""

    def __init__(self) -> None:
        import os
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            pids = [self._pid, *_descendants(self._pid)]
            self.peak_kb = max(self.peak_kb, sum(_status_kb(p, "VmRSS") for p in pids))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def _import_stages() -> None:
    """The imports a forked pool worker inherits from the main process of a pipeline run,
    which has read the engines' versions for the settings' fingerprint."""
    import jieba  # noqa: F401
    import rjieba  # noqa: F401

    import textmine.clean  # noqa: F401
    import textmine.formulations  # noqa: F401
    import textmine.pipeline  # noqa: F401
    import textmine.quantities  # noqa: F401
    import textmine.spans  # noqa: F401
    import textmine.topics  # noqa: F401


def stages_child(spec: dict[str, Any]) -> None:
    """Time the document stages, 1 process then N workers, in this (fresh) process; print a
    JSON line of [label, seconds, CPU seconds, note] rows.

    A process of its own, holding only the raw texts, as a pipeline run's main process does:
    forked from the benchmark's own process, which holds the cleaned corpus of the other rows
    (2 GB on bench-laws), workers and parent pay for copy-on-write pages and run slower.
    """
    from textmine.corpus import load_corpus
    from textmine.parallel import imap_ordered
    from textmine.pipeline import _STAGES_IN_PROCESS, DocumentStages

    docs = load_corpus(spec["corpus"]).documents
    if spec.get("limit"):
        docs = docs.iloc[:spec["limit"]]
    texts = list(zip(docs["doc_id"].astype(str), docs["text"], strict=True))
    del docs
    batches = _batches(texts)
    jobs = spec["jobs"]
    stages = DocumentStages(_tokenizer())
    _STAGES_IN_PROCESS[stages.memo_key()] = stages  # forked workers inherit the built one
    rows = []
    document_stages(batches[0])  # imports and first-use set-up are start-up, not throughput
    # Every row drops each batch's results once received, as the pipeline does after writing
    # them: results kept to the end (600 MB on bench-laws) would leave the heap the workers are
    # forked from that large, and both sides then pay copy-on-write page faults as they reuse
    # it (the 2-worker row measured 7.2-7.3 s after a dropping 1-process row, 7.7-9.0 s after
    # a keeping one).
    rows.append(("document stages (clean+tokenize+quantities+formulations), 1 process",
                 *_timed(lambda: _drain(map(document_stages, batches))), ""))
    rows.append((f"document stages, {jobs} workers",
                 *_timed(lambda: _drain(imap_ordered(document_stages, batches, n_jobs=jobs))),
                 "incl. worker start-up · target ≥ 4× jieba"))
    stages(batches[0])
    rows.append(("pipeline's document step (the stages + their tables + counts), 1 process",
                 *_timed(lambda: _drain(map(stages, batches))), ""))
    rows.append((f"pipeline's document step, {jobs} workers",
                 *_timed(lambda: _drain(imap_ordered(stages, batches, n_jobs=jobs))),
                 "incl. worker start-up"))
    print(json.dumps(rows))


def child(spec: dict[str, Any]) -> None:
    """Run one pipeline configuration in this (fresh) process; print a JSON line."""
    if spec.get("stages"):
        stages_child(spec)
        return
    from textmine.cache import Cache
    from textmine.pipeline import run_pipeline

    cluster = client = None
    scheduler = None
    if spec.get("dask"):
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=spec["jobs"], threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        # workers start with textmine imported, as forked pool workers do (its imports are
        # worker start-up, like the cluster's own, which is not timed either)
        client.run(_import_stages)
        scheduler = client
    memory = TreeMemory()
    cpu = _cpu()
    started = time.perf_counter()
    result = run_pipeline(spec["corpus"], spec["out"], n_jobs=spec["jobs"], scheduler=scheduler,
                          cache=Cache(spec["cache"], enabled=spec["cache_on"]), quiet=True,
                          topics=spec["topics"], topic_k=spec["topic_k"], topic_seeds=())
    seconds = time.perf_counter() - started
    again = None
    if spec.get("again"):
        # The same run again in this process: its imports are done and, on Dask, the workers
        # have built their tokenizers (a worker keeps them), as on a cluster that outlives one
        # run. Pool workers fork anew each run and build theirs again.
        worker_cpu = sum(client.run(_own_cpu).values()) if client is not None else 0.0
        cpu_before = _cpu()
        started = time.perf_counter()
        run_pipeline(spec["corpus"], spec["out"] + "-again", n_jobs=spec["jobs"],
                     scheduler=scheduler, cache=Cache(spec["cache"], enabled=spec["cache_on"]),
                     quiet=True, topics=spec["topics"], topic_k=spec["topic_k"], topic_seeds=())
        again = {"seconds": time.perf_counter() - started, "cpu": _cpu() - cpu_before}
        if client is not None:
            again["cpu"] += sum(client.run(_own_cpu).values()) - worker_cpu
    tree_mb = memory.stop()
    if client is not None:
        client.close()
        cluster.close()
    cpu = _cpu() - cpu  # pool workers have exited; Dask workers too, once the cluster closed
    if again is not None:
        cpu -= again["cpu"]
    print(json.dumps({
        "seconds": seconds, "cpu": cpu, "computed": result.computed, "cached": result.cached,
        "up_to_date": result.up_to_date, "timings": result.timings, "again": again,
        "rss_mb": _status_kb("self", "VmHWM") / 1024, "tree_mb": tree_mb,
        "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def _own_cpu() -> float:
    """CPU seconds of the calling process alone (a Dask worker's, through `client.run`)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run_child(**spec: Any) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec, default=str)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _stage_rows(texts: list[tuple[str, str]], stages: Any, report: Any) -> None:
    """Quantities and formulations alone, one process, on text cleaned beforehand."""
    from textmine.clean import _clean_columns
    from textmine.quantities import QUANTITY_KINDS, quantities_of_document

    cleaned = [(d, _clean_columns(t)) for d, t in texts]
    items = []
    for doc_id, c in cleaned:
        kinds = c.blocks["kind"]
        s = c.sentences
        items.append((doc_id, c, [kinds[b] for b in s["block_id"]]))
    quantity_kinds = set(QUANTITY_KINDS)
    quantity_items = [(d, c.text, [(i, a, b) for i, a, b, k in zip(
        c.sentences["sent_id"], c.sentences["start"], c.sentences["end"], kinds, strict=True)
        if k in quantity_kinds]) for d, c, kinds in items]
    report("quantities, 1 process (cleaned text)",
           _timed(lambda: [quantities_of_document(item) for item in quantity_items]))
    report("formulations, 1 process (cleaned text)", _timed(lambda: [
        stages._formulations(d, c.sentences, kinds) for d, c, kinds in items]))


# ------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--jobs", type=int, default=2, help="workers for the parallel rows")
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    parser.add_argument("--topics-k", type=int, default=10,
                        help="number of topics of the full pipeline (one model: no selection)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    import jieba

    from textmine.corpus import load_corpus
    from textmine.parallel import imap_ordered
    from textmine.pipeline import DocumentStages

    corpus_path = Path(args.corpus)
    if not corpus_path.exists():
        sys.exit(f"{corpus_path}: no such corpus")
    start = time.perf_counter()
    corpus = load_corpus(corpus_path)
    load_s = time.perf_counter() - start
    docs = corpus.documents
    if args.limit:
        docs = docs.iloc[:args.limit]
    texts = list(zip(docs["doc_id"].astype(str), docs["text"], strict=True))
    mb = sum(len(t.encode("utf-8")) for _, t in texts) / 1e6
    print(f"corpus {corpus_path} — {len(texts):,} documents, {mb:.1f} MB UTF-8; loaded in "
          f"{load_s:.1f} s; jobs={args.jobs}", flush=True)
    rows: list[tuple[str, float, str]] = []

    def report(label: str, timing: tuple[float, float], note: str = "") -> None:
        seconds, cpu = timing
        load = os.getloadavg()[0]
        rows.append((label, seconds, cpu, note))
        print(f"  {label:<58} {seconds:7.1f} s {mb / seconds:6.2f} MB/s │ CPU {cpu:7.1f} s "
              f"{mb / max(cpu, 1e-9):6.2f} MB/s │ load {load:4.1f}  {note}", flush=True)

    jieba.initialize()
    report("plain jieba.lcut, 1 process", _timed(lambda: [jieba.lcut(t) for _, t in texts]))
    batches = _batches(texts)
    _tokenizer()._ensure()  # the dictionary build is start-up, not throughput
    report("clean + tokenize (POS), 1 process",
           _timed(lambda: [clean_and_tokenize(b) for b in batches]))
    report(f"clean + tokenize (POS), {args.jobs} workers",
           _timed(lambda: _drain(imap_ordered(clean_and_tokenize, batches, n_jobs=args.jobs))),
           "incl. worker start-up")

    _stage_rows(texts, DocumentStages(_tokenizer()), report)  # its cleaned corpus is freed
    for label, seconds, cpu, note in run_child(stages=True, corpus=str(corpus_path),
                                               limit=args.limit, jobs=args.jobs):
        report(label, (seconds, cpu), note)

    work = Path(tempfile.mkdtemp(prefix="textmine-bench-"))
    source = str(corpus_path) if not args.limit else None
    if source is None:  # a limited run works on a copy of the first N files
        source = str(work / "corpus")
        Path(source).mkdir()
        for path in docs["path"]:
            shutil.copy(path, source)
    runs = {}
    try:
        common = {"corpus": source, "jobs": args.jobs, "topic_k": args.topics_k}
        cold = runs["cold"] = run_child(out=str(work / "out"), cache=str(work / "cache"),
                                        cache_on=True, topics=True, **common)
        report(f"full pipeline, cold, {args.jobs} workers (topics k={args.topics_k})",
               _run_timing(cold), f"{_timings(cold)} · bench-laws target < 120 s")
        warm = runs["warm"] = run_child(out=str(work / "out"), cache=str(work / "cache"),
                                        cache_on=True, topics=True, **common)
        report("full pipeline, warm rerun (same folder)", _run_timing(warm),
               f"{cold['seconds'] / warm['seconds']:.0f}× faster than cold · target ≥ 10×")
        warm2 = runs["warm2"] = run_child(out=str(work / "out2"), cache=str(work / "cache"),
                                          cache_on=True, topics=True, **common)
        report("full pipeline, warm into a new folder (cache)", _run_timing(warm2),
               f"{warm2['cached']} of {warm2['cached'] + warm2['computed']} documents cached; "
               f"{cold['seconds'] / warm2['seconds']:.1f}× faster than cold")
        pool = runs["pool"] = run_child(out=str(work / "pool"), cache=str(work / "unused"),
                                        cache_on=False, topics=False, again=True, **common)
        report(f"pipeline without topics or cache, {args.jobs}-process pool", _run_timing(pool),
               _timings(pool))
        report("  the same again in that process", _run_timing(pool["again"]), "")
        if not args.no_dask:
            dask = runs["dask"] = run_child(out=str(work / "dask"), cache=str(work / "unused"),
                                            cache_on=False, topics=False, dask=True, again=True,
                                            **common)
            report(f"pipeline without topics or cache, Dask LocalCluster ({args.jobs} workers)",
                   _run_timing(dask),
                   f"{(dask['seconds'] / pool['seconds'] - 1) * 100:+.0f}% vs pool · "
                   "target within 15% · fresh workers build their tokenizers")
            again = dask["again"]
            report("  the same again on that cluster", _run_timing(again),
                   f"{(again['seconds'] / pool['again']['seconds'] - 1) * 100:+.0f}% vs the "
                   "pool's second run")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = mb / rows[0][1]
    base_cpu = mb / rows[0][2]
    print(f"\nratios to plain jieba.lcut in one process ({base:.2f} MB/s wall-clock, "
          f"{base_cpu:.2f} MB/s of CPU); wall-clock is what the targets mean, but on a shared "
          "machine the load changes between rows, so the CPU column is given too:")
    print(f"  {'':<74} {'wall':>7} {'CPU':>7}")
    for label, seconds, cpu, _ in rows:
        print(f"  {label:<74} {mb / seconds / base:6.2f}× {mb / max(cpu, 1e-9) / base_cpu:6.2f}×")
    print("\npeak memory (resident set) of each pipeline run, in a process of its own:")
    for name, run in runs.items():
        print(f"  {name:<6} main process {run['rss_mb']:6.0f} MB (VmHWM) · with its workers "
              f"{run['tree_mb']:6.0f} MB (peak of the sampled sum) · RUSAGE_CHILDREN largest "
              f"worker {run['children_rss_mb']:6.0f} MB · target < 2048 MB")
    print(f"  this benchmark process (holds the cleaned corpus for the stage rows): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _run_timing(run: dict[str, Any]) -> tuple[float, float]:
    return run["seconds"], run["cpu"]


def _timings(run: dict[str, Any]) -> str:
    t = run["timings"]
    return " · ".join(f"{k} {t[k]:.1f} s" for k in ("load", "documents", "corpus") if k in t)


if __name__ == "__main__":
    main()
