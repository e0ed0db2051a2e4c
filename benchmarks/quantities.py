"""Figures: textmine against JioNLP (money) and Recognizers-Text (numbers with units).

Run from the repository root:

    .venv/bin/python benchmarks/quantities.py

It scores each tool on the hand-annotated sentences of tests/annotations/quantities.jsonl
(dates, years and ordinals left out) and prints, side by side, precision and recall — a
prediction is right when it overlaps a gold figure and value, unit and qualifier agree ("full"),
or when it overlaps one and the value agrees ("value") — and the extraction speed in MB/s of
UTF-8 text on one core. It then times textmine alone on the national government work reports.

The comparison libraries are not project dependencies (Recognizers-Text needs emoji<2, which
conflicts with nothing here but is old); install them into the venv by hand:

    .venv/bin/pip install -r benchmarks/requirements-bench.txt
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textmine.quantities import extract_quantities, quantities_of_text  # noqa: E402

GOLD = ROOT / "tests" / "annotations" / "quantities.jsonl"
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"
TEMPORAL = ("date", "year", "ordinal")
INSTALL = "install with: .venv/bin/pip install -r benchmarks/requirements-bench.txt"

Prediction = dict  # start, end, value, unit, qualifier


def textmine_predict(sentence: str) -> list[Prediction]:
    return [dict(r, money=r["kind"] == "money") for r in quantities_of_text(sentence)
            if r["kind"] not in TEMPORAL]


def jionlp_predictor() -> Callable[[str], list[Prediction]] | None:
    try:
        import jionlp
    except ImportError:
        print(f"JioNLP not installed ({INSTALL})")
        return None
    qualifiers = {"accurate": "exact", "blur": "about", "blur+": "more_than",
                  "blur-": "less_than"}

    def predict(sentence: str) -> list[Prediction]:
        out = []
        for item in jionlp.ner.extract_money(sentence, with_parsing=True):
            detail = item.get("detail") or {}
            num = detail.get("num")
            num = num[0] if isinstance(num, list) else num
            try:
                value = float(num)
            except (TypeError, ValueError):
                continue
            start, end = item["offset"]
            out.append({"start": start, "end": end, "value": value,
                        "unit": detail.get("case", ""),
                        "qualifier": qualifiers.get(detail.get("definition"), "exact"),
                        "money": True})
        return out

    return predict


def recognizers_predictor() -> Callable[[str], list[Prediction]] | None:
    try:
        import recognizers_number as rn
        import recognizers_number_with_unit as ru
    except ImportError:
        print(f"Recognizers-Text not installed ({INSTALL})")
        return None
    culture = rn.Culture.Chinese
    with_unit = [ru.recognize_currency, ru.recognize_dimension, ru.recognize_age,
                 ru.recognize_temperature, rn.recognize_percentage]
    number_part = re.compile(r"^[0-9０-９.,，．零〇一二两三四五六七八九十百千万亿余多几点]+")

    def predict(sentence: str) -> list[Prediction]:
        found: list[Prediction] = []
        for recognize in [*with_unit, rn.recognize_number]:
            for r in recognize(sentence, culture):
                start, end = r.start, r.end + 1  # Recognizers' end is inclusive
                if any(p["start"] < end and start < p["end"] for p in found):
                    continue  # a number already found with its unit
                raw = str((r.resolution or {}).get("value", ""))
                try:
                    value = float(raw.rstrip("%"))
                except ValueError:
                    continue
                # generous: the unit is whatever the match has after its number
                unit = "%" if raw.endswith("%") else number_part.sub("", r.text)
                found.append({"start": start, "end": end, "value": value, "unit": unit,
                              "qualifier": "exact", "money": recognize is ru.recognize_currency})
        return found

    return predict


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def evaluate(predict: Callable[[str], list[Prediction]], sentences: list[dict],
             money_only: bool = False) -> dict[str, float]:
    """Precision/recall (full and value-only) and MB/s of `predict` on the gold sentences.

    With `money_only`, only money figures count: the gold ones and the predictions the tool
    itself labels as money."""
    n_pred = n_gold = 0
    right = {"full": [0, 0], "value": [0, 0]}  # [right predictions, found gold]
    predictions = []
    n_bytes = sum(len(s["sentence"].encode("utf-8")) for s in sentences)
    for item in sentences[:3]:  # warm up: lazily loaded dictionaries are not timed
        predict(item["sentence"])
    t0 = time.process_time()
    for item in sentences:
        predictions.append(predict(item["sentence"]))
    seconds = time.process_time() - t0
    if money_only:
        predictions = [[p for p in pred if p["money"]] for pred in predictions]
    for item, pred in zip(sentences, predictions, strict=True):
        sentence, gold, pos = item["sentence"], [], 0
        for fig in item["figures"]:
            start = sentence.find(fig["surface"], pos)
            start = sentence.find(fig["surface"]) if start < 0 else start
            pos = start + 1
            if fig["kind"] not in TEMPORAL and (fig["kind"] == "money" or not money_only):
                gold.append((start, start + len(fig["surface"]), fig))
        n_pred += len(pred)
        n_gold += len(gold)
        for mode in right:
            def agree(p: Prediction, g: tuple, mode: str = mode) -> bool:
                gs, ge, fig = g
                ok = p["start"] < ge and gs < p["end"] and _same(p["value"], fig["value"])
                return ok and (mode == "value" or (p["unit"] == fig["unit"]
                                                   and p["qualifier"] == fig["qualifier"]))
            right[mode][0] += sum(any(agree(p, g) for g in gold) for p in pred)
            right[mode][1] += sum(any(agree(p, g) for p in pred) for g in gold)
    return {"P full": right["full"][0] / max(n_pred, 1), "R full": right["full"][1] / n_gold,
            "P value": right["value"][0] / max(n_pred, 1),
            "R value": right["value"][1] / n_gold, "MB/s": n_bytes / 1e6 / seconds,
            "predicted": n_pred, "gold": n_gold}


def main() -> None:
    sentences = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    tools = {"textmine": textmine_predict, "JioNLP": jionlp_predictor(),
             "Recognizers-Text": recognizers_predictor()}
    print(f"gold: {len(sentences)} sentences, "
          f"{sum(f['kind'] not in TEMPORAL for s in sentences for f in s['figures'])} quantities")
    header = f"{'tool':18} {'set':9} {'P full':>7} {'R full':>7} {'P value':>8} {'R value':>8} " \
             f"{'MB/s':>7}"
    print(header)
    results = {}
    for name, predict in tools.items():
        if predict is None:
            continue
        for label in ("all", "money"):
            r = evaluate(predict, sentences, money_only=label == "money")
            results[(name, label)] = r
            print(f"{name:18} {label:9} {r['P full']:7.3f} {r['R full']:7.3f} "
                  f"{r['P value']:8.3f} {r['R value']:8.3f} {r['MB/s']:7.3f}")
    base = results[("textmine", "all")]["MB/s"]
    for name in ("JioNLP", "Recognizers-Text"):
        if (name, "all") in results:
            print(f"textmine speed / {name}: {base / results[(name, 'all')]['MB/s']:.1f}×")

    paths = sorted(NATIONAL.glob("*.txt"))
    if not paths:
        print("../shared/corpora not available: national reports not timed")
        return
    texts = [p.read_text(encoding="utf-8") for p in paths]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    t0 = time.process_time()
    n = sum(len(quantities_of_text(t)) for t in texts)
    seconds = time.process_time() - t0
    print(f"textmine on {len(texts)} national reports ({n_bytes / 1e6:.1f} MB): {n} figures, "
          f"{n_bytes / 1e6 / seconds:.2f} MB/s one core (figures of the text)")
    for name in ("JioNLP", "Recognizers-Text"):
        predict = tools[name]
        if predict is None:
            continue
        # Recognizers-Text needs minutes a megabyte: time it on a 35,000-character excerpt
        sample = texts if name == "JioNLP" else [texts[-1][:35_000]]
        size = sum(len(t.encode("utf-8")) for t in sample)
        t0 = time.process_time()
        found = sum(len(predict(line)) for t in sample for line in t.splitlines() if line)
        seconds = time.process_time() - t0
        print(f"{name} on {size / 1e6:.2f} MB of the same reports: {found} figures, "
              f"{size / 1e6 / seconds:.2f} MB/s one core")
    from textmine.clean import clean_corpus
    from textmine.corpus import Corpus

    clean = clean_corpus(Corpus.from_texts({p.stem: t for p, t in zip(paths, texts,
                                                                      strict=True)}))
    t0 = time.process_time()
    table = extract_quantities(clean)
    seconds = time.process_time() - t0
    print(f"extract_quantities on the cleaned reports: {len(table)} rows, "
          f"{n_bytes / 1e6 / seconds:.2f} MB/s one core (cleaning excluded)")


if __name__ == "__main__":
    main()
