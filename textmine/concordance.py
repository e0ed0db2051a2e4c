"""Keyword in context (KWIC): every match of a term, phrase or regex with the text around it.

Columns: doc_id, sent_id (the sentence holding the match's start; -1 outside every sentence),
start, end (offsets into the cleaned document text), left, match, right. Context is counted in
characters or in tokens and may be cut at the sentence boundary; line breaks in the context are
shown as spaces.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import pandas as pd

KWIC_COLUMNS = ["doc_id", "sent_id", "start", "end", "left", "match", "right"]
UNITS = ("char", "token")


def _display(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def _compile(pattern: str, regex: bool) -> re.Pattern[str]:
    if not pattern:
        raise ValueError("kwic: the pattern is empty")
    if not regex:
        return re.compile(re.escape(pattern))
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ValueError(f"kwic: invalid regular expression {pattern!r}: {err}") from None


def kwic(corpus_or_text: Any, pattern: str, *, regex: bool = False, window: int = 20,
         unit: str = "char", cut_at_sentence: bool = False, tokens: pd.DataFrame | None = None
         ) -> pd.DataFrame:
    """Concordance of `pattern` (a literal phrase, or a regex with `regex=True`).

    `window` characters (unit="char") or tokens (unit="token") are shown on each side; with
    `cut_at_sentence` the context stops at the sentence's edges. Token context uses `tokens`
    (a textmine tokens table of the same corpus) or tokenizes the corpus here.
    """
    from textmine.clean import as_clean_corpus

    if unit not in UNITS:
        raise ValueError(f"kwic: unit must be one of {UNITS}, not {unit!r}")
    if window < 0:
        raise ValueError("kwic: window must be ≥ 0")
    compiled = _compile(pattern, regex)
    clean = as_clean_corpus(corpus_or_text)
    sentences = clean.sentences.sort_values(["doc_id", "start"], kind="stable")
    sents_by_doc = {doc: (list(g["start"]), list(g["end"]), list(g["sent_id"]))
                    for doc, g in sentences.groupby("doc_id", sort=False)}
    tokens_by_doc: dict[Any, tuple[list[int], list[int]]] = {}
    if unit == "token":
        if tokens is None:
            from textmine.segment import tokenize

            tokens = tokenize(clean, kinds=None)
        tok = tokens.sort_values(["doc_id", "start"], kind="stable")
        tokens_by_doc = {doc: (list(g["start"]), list(g["end"]))
                         for doc, g in tok.groupby("doc_id", sort=False)}

    rows: list[dict[str, Any]] = []
    for doc_id, text in zip(clean.documents["doc_id"], clean.documents["text"], strict=True):
        starts, ends, ids = sents_by_doc.get(doc_id, ([], [], []))
        tok_starts, tok_ends = tokens_by_doc.get(doc_id, ([], []))
        for m in compiled.finditer(text):
            s, e = m.start(), m.end()
            if e == s:
                continue
            i = bisect.bisect_right(starts, s) - 1
            inside = i >= 0 and s < ends[i]
            sent_id = int(ids[i]) if inside else -1
            lo, hi = (starts[i], ends[i]) if (cut_at_sentence and inside) else (0, len(text))
            if unit == "char":
                left_from, right_to = max(lo, s - window), min(hi, e + window)
            else:
                # The window-th token ending before the match, the window-th starting after it.
                k = bisect.bisect_right(tok_ends, s)
                left_from = tok_starts[max(0, k - window)] if window and k else s
                j = bisect.bisect_left(tok_starts, e)
                right_to = tok_ends[min(len(tok_ends), j + window) - 1] \
                    if window and j < len(tok_starts) else e
                left_from, right_to = max(lo, min(left_from, s)), min(hi, max(right_to, e))
            rows.append({"doc_id": doc_id, "sent_id": sent_id, "start": s, "end": e,
                         "left": _display(text[left_from:s]), "match": m.group(),
                         "right": _display(text[e:right_to])})
    table = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    for col in ("sent_id", "start", "end"):
        table[col] = table[col].astype("int64")
    return table
