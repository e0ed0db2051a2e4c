"""Cleaning: normalise characters, repair page breaks, classify blocks, split sentences.

`clean_text(raw)` returns a `CleanDocument`; every change is recorded in its ledger so that the
raw text can be rebuilt exactly (`CleanDocument.restore_raw()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from textmine.config import DEFAULT_ANALYSIS_KINDS
from textmine.corpus import Corpus

BLOCK_KINDS = ("title", "subtitle", "byline", "subheading", "caption", "paragraph", "fragment",
               "boilerplate")
BLOCK_COLUMNS = ["block_id", "kind", "text", "start", "end"]
SENTENCE_COLUMNS = ["sent_id", "block_id", "start", "end", "text"]
LEDGER_COLUMNS = ["op", "raw_start", "raw_end", "raw_text", "new_start", "new_end", "new_text",
                  "reason"]

_SENTENCE_END = re.compile(r"[^。！？；…\n]*(?:[。！？；]+|…+|$)[”’」』）)\]】]*")


@dataclass
class CleanDocument:
    """The analysis text with its blocks, sentences and the ledger of every change made."""

    raw: str
    text: str
    blocks: pd.DataFrame
    sentences: pd.DataFrame
    ledger: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def restore_raw(self) -> str:
        """Apply the ledger in reverse: the raw text, character for character."""
        out, pos = [], 0
        for row in self.ledger.sort_values("new_start", kind="stable").itertuples():
            out.append(self.text[pos:row.new_start])
            out.append(row.raw_text)
            pos = row.new_end
        out.append(self.text[pos:])
        return "".join(out)


def _split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE_END.finditer(text, start, end):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def clean_text(raw: str) -> CleanDocument:
    """Clean one document's raw text (see the module docstring)."""
    text = raw
    blocks, sentences = [], []
    for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e <= s:
            continue
        block_id = len(blocks)
        blocks.append({"block_id": block_id, "kind": "paragraph", "text": text[s:e], "start": s,
                       "end": e})
        for ss, se in _split_sentences(text, s, e):
            sentences.append({"sent_id": len(sentences), "block_id": block_id, "start": ss,
                              "end": se, "text": text[ss:se]})
    return CleanDocument(
        raw=raw, text=text,
        blocks=pd.DataFrame(blocks, columns=BLOCK_COLUMNS),
        sentences=pd.DataFrame(sentences, columns=SENTENCE_COLUMNS),
        ledger=pd.DataFrame(columns=LEDGER_COLUMNS),
    )


@dataclass
class CleanCorpus:
    """A cleaned corpus: documents (cleaned `text`, raw in `raw_text`) and its tables.

    `blocks`, `sentences` and `ledger` carry `doc_id` first; `sentences` also has the `kind`
    of its block so that analyses can keep the kinds they want.
    """

    documents: pd.DataFrame
    blocks: pd.DataFrame
    sentences: pd.DataFrame
    ledger: pd.DataFrame
    skipped: pd.DataFrame | None = None

    def analysis_sentences(self, kinds: tuple[str, ...] | None = DEFAULT_ANALYSIS_KINDS
                           ) -> pd.DataFrame:
        """Sentences of the given block kinds (all kinds with `kinds=None`)."""
        if kinds is None:
            return self.sentences
        return self.sentences[self.sentences["kind"].isin(kinds)]

    def texts(self) -> dict[str, str]:
        return dict(zip(self.documents["doc_id"], self.documents["text"], strict=True))


def _with_doc_id(df: pd.DataFrame, doc_id: str) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "doc_id", doc_id)
    return df


def clean_corpus(corpus: Corpus, *, n_jobs: int | None = 1, scheduler: Any = None,
                 quiet: bool = True) -> CleanCorpus:
    """Clean every document of `corpus` (in a process pool or on Dask if asked)."""
    from textmine.parallel import map_documents

    docs = corpus.documents
    cleaned = map_documents(clean_text, list(docs["text"]), n_jobs=n_jobs, scheduler=scheduler,
                            desc="clean", quiet=quiet)
    documents = docs.copy()
    documents["raw_text"] = docs["text"]
    documents["text"] = [c.text for c in cleaned]
    documents["n_chars"] = [len(c.text) for c in cleaned]
    blocks, sentences, ledgers = [], [], []
    for doc_id, c in zip(docs["doc_id"], cleaned, strict=True):
        blocks.append(_with_doc_id(c.blocks, doc_id))
        kinds = c.blocks.set_index("block_id")["kind"]
        sents = _with_doc_id(c.sentences, doc_id)
        sents["kind"] = sents["block_id"].map(kinds)
        sentences.append(sents)
        ledgers.append(_with_doc_id(c.ledger, doc_id))
        for key, value in c.metadata.items():
            if key in documents.columns:
                mask = (documents["doc_id"] == doc_id) & (documents[key].fillna("") == "")
                documents.loc[mask, key] = value

    def concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=["doc_id", *columns])
        return pd.concat(frames, ignore_index=True)

    return CleanCorpus(
        documents=documents,
        blocks=concat(blocks, BLOCK_COLUMNS),
        sentences=concat(sentences, [*SENTENCE_COLUMNS, "kind"]),
        ledger=concat(ledgers, LEDGER_COLUMNS),
        skipped=corpus.skipped,
    )


def as_clean_corpus(obj: str | Corpus | CleanCorpus, **options: Any) -> CleanCorpus:
    """Accept what the stage functions accept: a string, a `Corpus` or a `CleanCorpus`."""
    if isinstance(obj, CleanCorpus):
        return obj
    if isinstance(obj, str):
        obj = Corpus.from_texts({"doc0": obj})
    if isinstance(obj, Corpus):
        return clean_corpus(obj, **options)
    raise TypeError(f"expected a string, Corpus or CleanCorpus, not {type(obj).__name__}")
