"""Formulations: precision/recall on the hand annotations and the speed of formulation_spans.

Run: .venv/bin/python benchmarks/formulations.py
Prints P/R/F1 against tests/annotations/formulations.jsonl, then the throughput (MB/s of UTF-8
text) of `formulation_spans` over every sentence of the provincial reports, measured side by
side with jieba.lcut and with the whole span detector on the same sentences.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def accuracy() -> dict[str, float]:
    """Precision and recall over the annotated regions, loaded as the test suite loads them."""
    sys.path.insert(0, str(ROOT))
    from tests.test_formulations import load_annotations
    from textmine.formulations import evaluate_formulations

    predicted, gold = load_annotations()
    scores = evaluate_formulations(predicted, gold)
    scores["documents"] = gold["doc_id"].nunique()
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
