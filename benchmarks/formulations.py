"""Formulations: precision/recall on the hand annotations and the speed of formulation_spans.

Run: .venv/bin/python benchmarks/formulations.py
Prints P/R/F1 against tests/annotations/formulations.jsonl, then the throughput (MB/s of UTF-8
text) of `formulation_spans` over every sentence of the provincial reports, measured side by
side with jieba.lcut and with the whole span detector on the same sentences.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
ANNOTATIONS = ROOT / "tests" / "annotations" / "formulations.jsonl"
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"


def accuracy() -> dict[str, float]:
    from textmine.clean import clean_text
    from textmine.corpus import Corpus
    from textmine.formulations import evaluate_formulations, extract_formulations

    records = [json.loads(line) for line in ANNOTATIONS.read_text(encoding="utf-8").splitlines()]
    texts, gold = {}, []
    for rec in records:
        path = SAMPLE if rec["corpus"] == "sample" else CORPORA / rec["corpus"] / rec["file"]
        doc_id = f"{rec['corpus']}/{rec['file']}"
        texts[doc_id] = path.read_text(encoding="utf-8-sig")
        gold += [{"doc_id": doc_id, **f} for f in rec["formulations"]]
    predicted = extract_formulations(Corpus.from_texts(texts))
    kept = []
    for rec in records:
        doc_id = f"{rec['corpus']}/{rec['file']}"
        text = clean_text(texts[doc_id]).text
        lo = text.index(rec["from"]) if rec["from"] else 0
        hi = text.index(rec["until"]) if rec["until"] else len(text)
        rows = predicted[predicted["doc_id"] == doc_id]
        kept.append(rows[(rows["start"] >= lo) & (rows["start"] < hi)])
    gold_table = pd.DataFrame(gold)
    scores = evaluate_formulations(pd.concat(kept), gold_table)
    scores["documents"] = gold_table["doc_id"].nunique()
    return scores


def best_of(fn, items, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for item in items:
            fn(item)
        times.append(time.perf_counter() - t)
    return min(times)


def speed() -> None:
    import jieba

    from textmine.clean import clean_corpus
    from textmine.corpus import load_corpus
    from textmine.formulations import formulation_spans
    from textmine.spans import detect_spans

    folders = [CORPORA / f"gov-work-reports-provincial-{year}" for year in (2025, 2026)]
    sentences: list[str] = []
    for folder in folders:
        clean = clean_corpus(load_corpus(folder))
        sentences += list(clean.sentences["text"])
    mb = sum(len(s.encode("utf-8")) for s in sentences) / 1e6
    formulation_spans("“雨后春笋”")  # load the idiom list once
    jieba.lcut("预热")
    t_form = best_of(formulation_spans, sentences)
    t_spans = best_of(detect_spans, sentences)
    t_jieba = best_of(jieba.lcut, sentences, repeat=1)
    print(f"text: {len(sentences):,} sentences, {mb:.2f} MB")
    print(f"formulation_spans  {mb / t_form:7.2f} MB/s")
    print(f"detect_spans       {mb / t_spans:7.2f} MB/s  (figures + formulations)")
    print(f"jieba.lcut         {mb / t_jieba:7.2f} MB/s")
    print(f"formulation_spans is {t_jieba / t_form:.1f}x faster than jieba.lcut on the same text")


def main() -> int:
    if not CORPORA.is_dir():
        print("../shared/corpora not available", file=sys.stderr)
        return 1
    s = accuracy()
    print(f"annotations: {s['documents']} documents, {s['n_annotated']} formulations")
    print(f"precision {s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}  "
          f"(predicted {s['n_predicted']}, hits {s['hits']}, kind agreement "
          f"{s['kind_accuracy']:.3f})")
    speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
