"""The whole pipeline in one pass a document: clean → tokenize → quantities → formulations.

`run_pipeline(corpus, out)` reads each document once, runs every document stage on it in one
picklable function (`DocumentStages`), and streams the tables to Parquet in `out/` as results
arrive, so memory stays flat however large the corpus:

    documents, blocks, sentences, ledger, tokens, quantities, formulations   (.parquet)

Documents go in batches to a process pool (`n_jobs`, scikit-learn's convention) or a Dask cluster
(`scheduler`: a `distributed.Client` or an address); every engine gives the same tables in the
same order as a serial run. Each document's results are cached (`textmine.cache.Cache`, keyed by
its text, the settings, the lexicons and the code of every stage), so a rerun on unchanged input
recomputes nothing and a changed document recomputes that document only.

The corpus-wide steps never need the text back: each document also returns its sparse term
counts (per document and per paragraph), which are merged here into document-feature matrices
(`dfm_document.npz`, `dfm_paragraph.npz` with their `*_units` / `*_features` tables), the
corpus IDF (`idf.parquet`) and, optionally, topic models fitted on the paragraph matrix
(`topic_terms`, `doc_topics`, `topic_labels`, `topic_selection`; MiniBatchNMF / online LDA
when the corpus is large). `out/manifest.json` records what the folder was built from: a rerun
whose input, settings and code match does nothing at all.

Every file is written to a temporary name and renamed into place when complete, the manifest
last, so a reader never sees a half-written table and a killed run leaves the old outputs whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from textmine.config import Config

if TYPE_CHECKING:
    from textmine.spans import Span

#: Bump when the pipeline's own logic changes results (part of every cache key).
PIPELINE_VERSION = "2"

DOCUMENT_TABLES = ("documents", "blocks", "sentences", "ledger", "tokens", "quantities",
                   "formulations")
#: Units of the merged document-feature matrices.
DFM_UNITS = ("document", "paragraph")
#: Characters of raw text per batch sent to a worker (several documents, or one large one).
#: Doubled from 120,000 (and 64 documents): on bench-laws the pool ran 6% faster and Dask 9%
#: (means of four runs each; half the transfers, half the Parquet row groups to write), for
#: 25-90 MB more peak memory.
BATCH_CHARS = 240_000
BATCH_DOCUMENTS = 128

#: A feature holds a Han character or a Latin letter (as in textmine.dfm).
_WORDLIKE = re.compile(r"[\u3400-\u9fffA-Za-z]")
_STRING = pa.string()
_INT = pa.int64()
_FLOAT = pa.float64()


def _schema(columns: Sequence[tuple[str, pa.DataType]], pandas_dtypes: dict[str, str]
            ) -> pa.Schema:
    """An Arrow schema whose pandas metadata restores the stage functions' dtypes on reading."""
    empty = pd.DataFrame({name: pd.Series(dtype=pandas_dtypes.get(name, "object"))
                          for name, _ in columns})
    meta = pa.Schema.from_pandas(empty, preserve_index=False).metadata
    return pa.schema([pa.field(name, typ) for name, typ in columns], metadata=meta)


_INTS = dict.fromkeys(("sent_id", "token_id", "block_id", "start", "end", "raw_start", "raw_end",
                       "new_start", "new_end"), "int64")
SCHEMAS: dict[str, pa.Schema] = {
    "blocks": _schema([("doc_id", _STRING), ("block_id", _INT), ("kind", _STRING),
                       ("text", _STRING), ("start", _INT), ("end", _INT)], _INTS),
    "sentences": _schema([("doc_id", _STRING), ("sent_id", _INT), ("block_id", _INT),
                          ("start", _INT), ("end", _INT), ("text", _STRING),
                          ("kind", _STRING)], _INTS),
    "ledger": _schema([("doc_id", _STRING), ("op", _STRING), ("raw_start", _INT),
                       ("raw_end", _INT), ("raw_text", _STRING), ("new_start", _INT),
                       ("new_end", _INT), ("new_text", _STRING), ("reason", _STRING)], _INTS),
    "tokens": _schema([("doc_id", _STRING), ("sent_id", _INT), ("token_id", _INT),
                       ("token", _STRING), ("pos", _STRING), ("start", _INT), ("end", _INT),
                       ("is_stop", pa.bool_())], {**_INTS, "is_stop": "bool"}),
    "quantities": _schema([("doc_id", _STRING), ("sent_id", _INT), ("start", _INT),
                           ("end", _INT), ("surface", _STRING), ("value", _FLOAT),
                           ("value_max", _FLOAT), ("unit", _STRING), ("kind", _STRING),
                           ("qualifier", _STRING), ("measure", _STRING), ("time", _STRING),
                           ("sentence", _STRING)],
                          {**_INTS, "value": "float64", "value_max": "float64"}),
    "formulations": _schema([("doc_id", _STRING), ("sent_id", _INT), ("start", _INT),
                             ("end", _INT), ("surface", _STRING), ("kind", _STRING),
                             ("number", _INT), ("members", pa.list_(_STRING)),
                             ("sentence", _STRING)], {**_INTS, "number": "Int64"}),
}


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# One document, every stage
# --------------------------------------------------------------------------------------------
@dataclass
class DocumentResult:
    """Everything the pipeline keeps of one document: its tables (Arrow), the fields it adds
    to the documents table, and its sparse term counts for the corpus-wide steps."""

    doc_id: str
    tables: dict[str, pa.Table]
    fields: dict[str, Any]
    counts: dict[str, Any]  # "terms" and, per unit, (unit keys, rows, term columns, counts)
    cached: bool = False

    def pack(self, compression: str | None = "zstd") -> tuple[Any, ...]:
        """A compact form for the on-disk cache: each table as (compressed) Arrow IPC.

        Whole tables: leaving out the doc_id column (the same value on every row) makes the
        bytes 14% fewer but costs the main process more to put back than it saves."""
        packed = {name: _to_ipc(table, compression) for name, table in self.tables.items()}
        return (PIPELINE_VERSION, self.doc_id, packed, self.fields, self.counts)

    @classmethod
    def unpack(cls, packed: tuple[Any, ...], cached: bool = True) -> DocumentResult:
        """The result `pack` stored, marked as coming from the cache."""
        _, doc_id, tables, fields, counts = packed
        return cls(doc_id, {name: pa.ipc.open_stream(blob).read_all()
                            for name, blob in tables.items()}, fields, counts, cached=cached)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # From a worker to the main process as uncompressed Arrow IPC: several times cheaper
        # to pickle and unpickle than Arrow tables themselves.
        return _unpack_result, (self.pack(compression=None), self.cached)


def _unpack_result(packed: tuple[Any, ...], cached: bool) -> DocumentResult:
    return DocumentResult.unpack(packed, cached=cached)


def _to_ipc(table: pa.Table, compression: str | None) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


_STAGES_IN_PROCESS: dict[str, DocumentStages] = {}


def _stages_for(key: str, params: dict[str, Any]) -> DocumentStages:
    """The process's `DocumentStages` for these settings, built once (its tokenizer's
    dictionary takes seconds to load, so pool and Dask workers keep it between batches)."""
    stages = _STAGES_IN_PROCESS.get(key)
    if stages is None:
        stages = _STAGES_IN_PROCESS[key] = DocumentStages(**params)
    return stages


class DocumentStages:
    """The picklable per-document function: raw text → `DocumentResult` (every stage).

    Called on a batch — a list of (doc_id, raw text) — it returns one result a document, in
    order. Unpickling in a worker reuses the worker's existing instance with the same settings.
    `cache` (a `textmine.cache.Cache`) makes workers store each result as they finish it.
    """

    def __init__(self, tokenizer: Any = None, *,
                 analysis_kinds: tuple[str, ...] | None = None,
                 quantity_kinds: tuple[str, ...] | None = None,
                 formulation_kinds: tuple[str, ...] | None = None,
                 include_quotes: bool = False, cache: Any = None):
        from textmine.config import DEFAULT_ANALYSIS_KINDS
        from textmine.formulations import FORMULATION_BLOCK_KINDS
        from textmine.quantities import QUANTITY_KINDS
        from textmine.segment import Tokenizer

        self.tokenizer = tokenizer if tokenizer is not None else Tokenizer()
        self.analysis_kinds = tuple(analysis_kinds or DEFAULT_ANALYSIS_KINDS)
        self.quantity_kinds = tuple(quantity_kinds or QUANTITY_KINDS)
        self.formulation_kinds = tuple(formulation_kinds or FORMULATION_BLOCK_KINDS)
        self.include_quotes = include_quotes
        self.cache = cache
        self._features = _FeatureFlags()
        self._fingerprint: str | None = None

    def params(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "analysis_kinds": self.analysis_kinds,
                "quantity_kinds": self.quantity_kinds,
                "formulation_kinds": self.formulation_kinds,
                "include_quotes": self.include_quotes, "cache": self.cache}

    def memo_key(self) -> str:
        """Identifies these settings (and cache) within a worker process."""
        cache = self.cache
        where = None if cache is None else (str(cache.directory), cache.enabled)
        return f"{self.fingerprint}:{where!r}"

    def __reduce__(self) -> tuple[Any, tuple[str, dict[str, Any]]]:
        return _stages_for, (self.memo_key(), self.params())

    @property
    def fingerprint(self) -> str:
        """Hash of what changes the results: settings, lexicons, library versions and the code
        of every stage (a changed module invalidates the cached results it produced)."""
        if self._fingerprint is None:
            import textmine

            folder = Path(textmine.__file__).parent
            code = [_file_digest(folder / f"{name}.py") for name in (
                "clean", "spans", "segment", "quantities", "formulations", "dfm", "topics",
                "pipeline")]
            self._fingerprint = hashlib.sha256(repr((
                PIPELINE_VERSION, self.tokenizer.fingerprint, self.analysis_kinds,
                self.quantity_kinds, self.formulation_kinds, self.include_quotes, code,
                pa.__version__, pd.__version__)).encode("utf-8")).hexdigest()
        return self._fingerprint

    def document_key(self, doc_id: str, raw: str) -> str:
        """Cache key of one document's results."""
        from textmine.cache import make_key

        return make_key("pipeline", self.fingerprint, doc_id, raw)

    def __call__(self, batch: Sequence[tuple[str, str]]) -> list[DocumentResult]:
        out = []
        for doc_id, raw in batch:
            result = self.process(doc_id, raw)
            if self.cache is not None:
                self.cache.put("pipeline", self.document_key(doc_id, raw), result.pack())
            out.append(result)
        return out

    def process(self, doc_id: str, raw: str) -> DocumentResult:
        """Every document stage on one document's raw text, as tables and counts."""
        from textmine.clean import COPIED_METADATA

        c, sent_kind, cols, formulation_rows, rows = self.stage_outputs(doc_id, raw)
        text = c.text
        sents = c.sentences
        tables = {
            "blocks": _table("blocks", doc_id, c.blocks),
            "sentences": _table("sentences", doc_id, {**sents, "kind": sent_kind}),
            "ledger": _table("ledger", doc_id, c.ledger),
        }
        coded = _Coded(cols, self.tokenizer.vocabulary)
        cols["token_id"] = np.arange(len(cols["row"]), dtype=np.int64)
        cols["token"] = coded.token_array()
        cols["pos"] = coded.pos_array()
        tables["tokens"] = _table("tokens", doc_id, cols)
        tables["quantities"] = _rows_table("quantities", rows)
        tables["formulations"] = _rows_table("formulations", formulation_rows)
        fields = {"text": text, "n_chars": len(text), "n_repairs": c.metadata["n_repairs"]}
        for key in COPIED_METADATA:
            fields[key] = c.metadata.get(key)
        block_of_sentence = np.asarray(sents["block_id"], dtype=np.int64)
        return DocumentResult(doc_id, tables, fields, self._counts(coded, cols,
                                                                   block_of_sentence))

    def stage_outputs(self, doc_id: str, raw: str) -> tuple[Any, list[str], dict[str, Any],
                                                             list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
        """The four document stages on one document, before they become tables: the cleaned
        columns, each sentence's block kind, the token columns (vocabulary codes, see
        `Tokenizer.tokenize_document`), the formulation rows and the figure rows."""
        from textmine.clean import _clean_columns
        from textmine.quantities import quantities_of_text
        from textmine.segment import Tokenizer
        from textmine.spans import figure_spans

        c = _clean_columns(raw)
        text = c.text
        block_kind = c.blocks["kind"]
        sents = c.sentences
        sent_kind = [block_kind[b] for b in sents["block_id"]]
        spans = list(zip(sents["sent_id"], sents["start"], sents["end"], sent_kind,
                         strict=True))

        def select(kinds: tuple[str, ...]) -> list[tuple[int, int, int]]:
            chosen = set(kinds)
            return [(i, a, b) for i, a, b, kind in spans if kind in chosen]

        # One figure scan of the text and one formulation scan a sentence serve every stage.
        figures = figure_spans(text)
        protected = None
        if isinstance(self.tokenizer, Tokenizer):
            protected = self.tokenizer.protected_spans(text, figures=figures)
        cols = self.tokenizer.tokenize_document(text, select(self.analysis_kinds),
                                                spans=protected, codes=True)
        scans: dict[int, list[Span]] = {}
        formulation_rows = self._formulations(doc_id, c.sentences, sent_kind, scans)
        # The figure rows hold the very sentence strings of the cleaned columns, as the
        # formulation rows do: sent to the main process, each sentence is pickled once.
        rows = quantities_of_text(text, select(self.quantity_kinds), doc_id, figures=figures,
                                  formulations=scans,
                                  sentence_texts=dict(zip(sents["sent_id"], sents["text"],
                                                          strict=True)))
        rows.sort(key=lambda r: r["start"])  # as extract_quantities orders them
        return c, sent_kind, cols, formulation_rows, rows

    def _formulations(self, doc_id: str, sents: dict[str, list], sent_kind: list[str],
                      scans: dict[int, list[Span]] | None = None) -> list[dict[str, Any]]:
        """`extract_formulations` for one document (same rows, same order); `scans` receives
        each scanned sentence's formulation spans (sent_id → spans) for the figures stage."""
        from textmine.formulations import formulation_spans, scan_formulations

        chosen = set(self.formulation_kinds)
        rows = []
        for i, kind in enumerate(sent_kind):
            if kind not in chosen:
                continue
            start, sentence = sents["start"][i], sents["text"][i]
            found = scan_formulations(sentence, include_quotes=True)
            if scans is not None:
                scans[sents["sent_id"][i]] = formulation_spans(sentence, scanned=found) \
                    if found else []
            for f in found:
                rows.append({"doc_id": doc_id, "sent_id": sents["sent_id"][i],
                             "start": start + f.start, "end": start + f.end,
                             "surface": f.surface, "kind": f.kind, "number": f.number,
                             "members": list(f.members), "sentence": sentence})
        # A quotation used as a formulation elsewhere in the document is one there too.
        kind_of: dict[str, str] = {}
        for row in rows:
            if row["kind"] != "quote":
                kind_of.setdefault(row["surface"], row["kind"])
        for row in rows:
            if row["kind"] == "quote":
                row["kind"] = kind_of.get(row["surface"], "quote")
        if not self.include_quotes:
            rows = [row for row in rows if row["kind"] != "quote"]
        rows.sort(key=lambda r: r["start"])
        return rows

    def _counts(self, coded: _Coded, cols: dict[str, Any], block_of_sentence: np.ndarray
                ) -> dict[str, Any]:
        """Sparse counts of the document's features: its `terms`, and per unit (the document
        itself, each paragraph holding a token) the unit keys, rows, term columns, counts."""
        n = len(coded.token_code)
        if n == 0:
            empty = np.zeros(0, np.int32)
            return {"terms": [], **{unit: ([], empty, empty, empty) for unit in DFM_UNITS}}
        token_code, token_uniques = coded.token_code, coded.token_uniques
        is_word, is_topic = self._features.of(coded, cols)
        # the topic features are document features too: one term list serves both units
        used = np.flatnonzero(np.bincount(token_code[is_word],
                                          minlength=len(token_uniques)))
        term_col = np.full(len(token_uniques), -1, dtype=np.int64)
        term_col[used] = np.arange(len(used))
        out: dict[str, Any] = {"terms": token_uniques[used].tolist()}
        blocks = block_of_sentence[cols["sent_id"]]
        width = max(len(used), 1)
        per_term = np.bincount(term_col[token_code[is_word]], minlength=len(used))
        out["document"] = ([0], np.zeros(len(used), np.int32), np.arange(len(used), dtype=np.int32),
                           per_term.astype(np.int32))
        unit_keys, row_of_token = np.unique(blocks, return_inverse=True)
        pairs, counts = np.unique(row_of_token[is_topic] * width + term_col[token_code[is_topic]],
                                  return_counts=True)
        out["paragraph"] = (unit_keys.tolist(), (pairs // width).astype(np.int32),
                            (pairs % width).astype(np.int32), counts.astype(np.int32))
        return out


class _Coded:
    """A document's tokens as codes into their distinct values, in order of first occurrence,
    and its POS tags as codes into the tokenizer's tag names: shared by the tokens table (built
    by gathering the distinct strings, in Arrow) and the counts."""

    def __init__(self, cols: dict[str, np.ndarray], vocabulary: Any):
        self.vocabulary = vocabulary
        self.token_code, self.rows = pd.factorize(cols["row"])  # integers: cheap to hash
        self.token_uniques = vocabulary.words[self.rows]
        self.pos_code = cols["pos_code"]

    def token_array(self) -> pa.Array:
        return _gather(self.token_uniques, self.token_code)

    def pos_array(self) -> pa.Array:
        return _gather(np.asarray(self.vocabulary.pos_names, dtype=object), self.pos_code)


class _FeatureFlags:
    """Which tokens are features of the document matrix (the defaults of
    `textmine.dfm.filter_tokens`) and of the topic matrix (topic parts of speech): the same
    rules, decided once a vocabulary row (under its dictionary tag) for the life of the
    process, and once a distinct (token, tag, is_stop) for spans carrying a tag of their own.
    Tests check the merged matrices against `build_dfm`."""

    def __init__(self) -> None:
        from textmine.dfm import DEFAULT_POS_DROP
        from textmine.topics import TOPIC_POS

        self._drop, self._topic = tuple(DEFAULT_POS_DROP), tuple(TOPIC_POS)
        self._vocabulary: Any = None
        self._generation = -1
        self._decided = np.zeros(0, dtype=bool)
        self._word = np.zeros(0, dtype=bool)
        self._topic_word = np.zeros(0, dtype=bool)
        self._memo: dict[tuple[str, str, bool], tuple[bool, bool]] = {}

    def decide(self, token: str, pos: str, stop: bool) -> tuple[bool, bool]:
        """(is a document feature, is a topic feature) of one token with its tag."""
        word = not stop and len(token) >= 2 and _WORDLIKE.search(token) is not None \
            and not pos.startswith(self._drop)
        return word, word and pos.startswith(self._topic)

    def of(self, coded: _Coded, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per token of a document: (is a document feature, is a topic feature)."""
        vocab = coded.vocabulary
        if vocab is not self._vocabulary or vocab.generation != self._generation:
            self._vocabulary, self._generation = vocab, vocab.generation
            self._decided = np.zeros(0, dtype=bool)
        size = len(vocab.words)
        if len(self._decided) < size:
            for name in ("_decided", "_word", "_topic_word"):
                grown = np.zeros(size, dtype=bool)
                old = getattr(self, name)
                grown[:len(old)] = old
                setattr(self, name, grown)
        rows = coded.rows
        names = vocab.pos_names
        for row in rows[~self._decided[rows]].tolist():
            self._word[row], self._topic_word[row] = self.decide(
                vocab.words[row], names[vocab.pos_code[row]], bool(vocab.stop[row]))
            self._decided[row] = True
        token_rows = cols["row"]
        is_word, is_topic = self._word[token_rows], self._topic_word[token_rows]
        own_tag = np.flatnonzero(coded.pos_code != vocab.pos_code[token_rows])
        memo = self._memo
        for i in own_tag.tolist():  # spans: 2278人 tagged mq, 二十大 tagged by the lexicon
            key = (vocab.words[token_rows[i]], names[coded.pos_code[i]],
                   bool(cols["is_stop"][i]))
            if key not in memo:
                memo[key] = self.decide(*key)
            is_word[i], is_topic[i] = memo[key]
        return is_word, is_topic


def _gather(uniques: np.ndarray, codes: np.ndarray) -> pa.Array:
    import pyarrow.compute as pc

    return pc.take(pa.array(uniques, type=_STRING), pa.array(codes.astype(np.int32)))


def _table(name: str, doc_id: str, columns: dict[str, Any]) -> pa.Table:
    schema = SCHEMAS[name]
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for f in schema:
        if f.name == "doc_id":
            arrays.append(pa.repeat(pa.scalar(doc_id, type=_STRING), n))
        else:
            column = columns[f.name]
            arrays.append(column if isinstance(column, pa.Array) else
                          pa.array(column, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _rows_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    arrays = []
    for f in schema:
        values = [row[f.name] for row in rows]
        if pa.types.is_floating(f.type):
            arrays.append(pa.array(np.asarray(values, dtype=np.float64), type=f.type))
        else:
            arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# --------------------------------------------------------------------------------------------
# Corpus-wide: merging the partial counts
# --------------------------------------------------------------------------------------------
class CountMerger:
    """Merges the documents' sparse counts into one unit × feature matrix, in document order.

    Only counts travel (never text); the merged matrix equals `build_dfm` on the whole tokens
    table with the same filters. The counts are the one thing of the document stages that grows
    with the corpus, so they are kept small: every few hundred documents the arrays are gathered
    into one chunk of the narrowest integer types that hold them (a few bytes a non-zero count)
    and, with `spill` (a folder), written to a temporary file there instead of kept in memory.
    The matrix is then built a chunk at a time, filtered as it is built.
    """

    #: Documents whose small arrays are gathered into one chunk at a time.
    CHUNK_DOCUMENTS = 256
    #: Per unit: its document (index into `doc_ids`), key and number of terms; per non-zero
    #: count: vocabulary id and count.
    _UNIT_FIELDS = ("unit_doc", "unit_key", "unit_nnz")
    _FIELDS = (*_UNIT_FIELDS, "cols", "data")

    def __init__(self, unit: str, vocabulary: dict[str, int] | None = None,
                 spill: str | Path | None = None):
        if unit not in DFM_UNITS:
            raise ValueError(f"unit must be one of {DFM_UNITS}, not {unit!r}")
        self.unit = unit
        self.vocabulary: dict[str, int] = {} if vocabulary is None else vocabulary
        self.doc_ids: list[str] = []  # every document added, in order
        self.n_units = 0
        self._recent: dict[str, list[np.ndarray]] = {f: [] for f in self._FIELDS}
        self._chunks: list[dict[str, Any]] = []  # arrays, or (offset, dtype, length) spilled
        self._file: Any = None
        self.spill_path: Path | None = None
        if spill is not None:
            from textmine.cache import temporary_path

            self.spill_path = temporary_path(Path(spill) / f"counts-{unit}")
            self._file = open(self.spill_path, "wb+")  # noqa: SIM115 - closed by close()

    def add(self, doc_id: str, counts: tuple[list[int], np.ndarray, np.ndarray, np.ndarray],
            ids: np.ndarray) -> None:
        """Append one document's units and counts; `ids` maps its term columns to the
        vocabulary's (see `term_ids`)."""
        unit_keys, rows, cols, data = counts
        n = len(unit_keys)
        recent = self._recent
        recent["unit_doc"].append(np.full(n, len(self.doc_ids), dtype=np.int64))
        recent["unit_key"].append(np.asarray(unit_keys, dtype=np.int64))
        recent["unit_nnz"].append(np.bincount(np.asarray(rows, dtype=np.int64), minlength=n)
                                  if len(data) else np.zeros(n, np.int64))
        recent["cols"].append(np.asarray(ids, dtype=np.int64)[cols])
        recent["data"].append(np.asarray(data, dtype=np.int64))
        self.doc_ids.append(doc_id)
        self.n_units += n
        if len(recent["unit_doc"]) >= self.CHUNK_DOCUMENTS:
            self.compact()

    def compact(self) -> None:
        """Gather the arrays of the documents added since the last call into one chunk."""
        if not self._recent["unit_doc"]:
            return
        chunk: dict[str, Any] = {}
        for name in self._FIELDS:
            values = np.concatenate(self._recent[name])
            self._recent[name] = []
            narrow = values.astype(_narrow_type(values), copy=False)
            if self._file is not None:
                offset = self._file.seek(0, os.SEEK_END)
                self._file.write(narrow.tobytes())
                chunk[name] = (offset, narrow.dtype.str, len(narrow))
            else:
                chunk[name] = narrow
        self._chunks.append(chunk)

    def chunks(self) -> Iterator[dict[str, np.ndarray]]:
        """The gathered chunks in order, each field as an int64 array (read back if spilled)."""
        self.compact()
        if self._file is not None:
            self._file.flush()
        for chunk in self._chunks:
            arrays = {}
            for name, value in chunk.items():
                if isinstance(value, tuple):
                    offset, dtype, length = value
                    self._file.seek(offset)
                    value = np.frombuffer(self._file.read(length * np.dtype(dtype).itemsize),
                                          dtype=dtype)
                arrays[name] = value.astype(np.int64)
            yield arrays

    def close(self) -> None:
        """Forget the counts and remove the spill file."""
        self._chunks = []
        self._recent = {f: [] for f in self._FIELDS}
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.spill_path is not None:
            self.spill_path.unlink(missing_ok=True)

    def _units(self, field: str) -> np.ndarray:
        parts = [c[field] for c in self.chunks()]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    @property
    def unit_doc(self) -> np.ndarray:
        """The doc_id of each unit (row), in order."""
        return np.asarray(self.doc_ids, dtype=object)[self._units("unit_doc")] \
            if self.doc_ids else np.zeros(0, dtype=object)

    @property
    def unit_key(self) -> np.ndarray:
        """The unit key of each row (0 for documents, the block_id for paragraphs)."""
        return self._units("unit_key")

    def _plan(self, min_df: int | float, max_df: int | float, min_count: int) -> _MatrixPlan:
        """Which features the filters keep, their columns (sorted by name) and sizes: one pass
        over the chunks (a unit's terms are distinct: one non-zero a unit a term)."""
        from textmine.dfm import df_bound

        terms = np.asarray(list(self.vocabulary), dtype=object)
        n_terms = len(terms)
        order = np.argsort(terms.astype(str), kind="stable")
        unit_freq = np.zeros(n_terms, np.int64)
        total = np.zeros(n_terms, np.int64)
        for chunk in self.chunks():
            unit_freq += np.bincount(chunk["cols"], minlength=n_terms)
            total += np.rint(np.bincount(chunk["cols"], weights=chunk["data"],
                                         minlength=n_terms)).astype(np.int64)
        keep = total >= min_count
        low, high = df_bound(min_df, self.n_units, "min_df"), \
            df_bound(max_df, self.n_units, "max_df")
        if low is not None:
            keep &= unit_freq >= low
        if high is not None:
            keep &= unit_freq <= high
        kept = order[keep[order]]  # vocabulary ids of the kept features, by name
        column = np.full(n_terms, -1, dtype=np.int64)
        column[kept] = np.arange(len(kept))
        nnz = int(unit_freq[kept].sum())
        index_type = np.dtype(np.int32 if max(nnz, len(kept), self.n_units) < 2**31
                              else np.int64)
        return _MatrixPlan(terms[kept], unit_freq[kept], column, nnz, index_type)

    def _rows(self, plan: _MatrixPlan) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """A chunk at a time: kept terms a unit, their columns and counts (sorted by column
        within each unit)."""
        for chunk in self.chunks():
            n_rows = len(chunk["unit_nnz"])
            row_of = np.repeat(np.arange(n_rows), chunk["unit_nnz"])
            col = plan.column[chunk["cols"]]
            kept = col >= 0
            row_of, col, values = row_of[kept], col[kept], chunk["data"][kept]
            by_row = np.lexsort((col, row_of))
            yield np.bincount(row_of, minlength=n_rows), col[by_row], values[by_row]

    def matrix(self, *, min_df: int | float = 1, max_df: int | float = 1.0, min_count: int = 1
               ) -> tuple[sp.csr_matrix, np.ndarray]:
        """The merged counts (units × features sorted by name) and the features, keeping the
        features whose total count and unit frequency lie within the bounds (as
        `textmine.dfm.filter_features`): built a chunk at a time, straight into its final size."""
        plan = self._plan(min_df, max_df, min_count)
        indices = np.empty(plan.nnz, dtype=plan.index_type)
        data = np.empty(plan.nnz, dtype=np.int64)
        indptr = np.zeros(self.n_units + 1, dtype=plan.index_type)
        row = at = 0
        for per_row, col, values in self._rows(plan):
            indices[at:at + len(col)] = col
            data[at:at + len(col)] = values
            indptr[row + 1:row + 1 + len(per_row)] = at + np.cumsum(per_row)
            row += len(per_row)
            at += len(col)
        counts = sp.csr_matrix((data, indices, indptr),
                               shape=(self.n_units, len(plan.features)))
        return counts, plan.features

    def save_npz(self, path: str | Path, *, min_df: int | float = 1, max_df: int | float = 1.0,
                 min_count: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Write the matrix `matrix()` gives to `path` as `scipy.sparse.save_npz` does
        (uncompressed), a chunk at a time, without building it in memory. Returns the
        features, the number of units holding each, and each unit's count of kept tokens."""
        import zipfile

        from numpy.lib import format as npy

        from textmine.cache import atomic_writer

        plan = self._plan(min_df, max_df, min_count)
        indptr = np.zeros(self.n_units + 1, dtype=plan.index_type)
        n_tokens = np.zeros(self.n_units, dtype=np.int64)

        def array(zf: zipfile.ZipFile, name: str, dtype: Any, shape: tuple[int, ...],
                  parts: Iterable[np.ndarray]) -> None:
            header = npy.header_data_from_array_1_0(np.empty(0, dtype=dtype))
            header["shape"] = shape
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fid:
                npy.write_array_header_1_0(fid, header)
                for part in parts:
                    fid.write(np.ascontiguousarray(part, dtype=dtype).tobytes())

        def indices() -> Iterator[np.ndarray]:
            row = at = 0
            for per_row, col, _ in self._rows(plan):
                indptr[row + 1:row + 1 + len(per_row)] = at + np.cumsum(per_row)
                row += len(per_row)
                at += len(col)
                yield col

        def data() -> Iterator[np.ndarray]:
            row = 0
            for per_row, _, values in self._rows(plan):
                rows = np.repeat(np.arange(len(per_row)), per_row)
                n_tokens[row:row + len(per_row)] = np.bincount(
                    rows, weights=values, minlength=len(per_row)).round().astype(np.int64)
                row += len(per_row)
                yield values

        shape = (self.n_units, len(plan.features))
        with atomic_writer(path) as f, zipfile.ZipFile(f, mode="w", allowZip64=True,
                                                       compression=zipfile.ZIP_STORED) as zf:
            array(zf, "indices", plan.index_type, (plan.nnz,), indices())
            array(zf, "indptr", plan.index_type, (self.n_units + 1,), [indptr])
            array(zf, "format", "S3", (), [np.array(b"csr")])
            array(zf, "shape", np.int64, (2,), [np.array(shape)])
            array(zf, "data", np.int64, (plan.nnz,), data())
        return plan.features, plan.unit_freq, n_tokens

    def units(self, counts: sp.csr_matrix | np.ndarray) -> pd.DataFrame:
        """The units table of the matrix (or of each unit's count of kept tokens): unit,
        doc_id, (block_id,) n_tokens."""
        doc_ids = self.unit_doc
        if self.unit == "document":
            units = pd.DataFrame({"unit": doc_ids, "doc_id": doc_ids})
        else:
            keys = self.unit_key
            units = pd.DataFrame({"unit": [f"{d}#p{k}" for d, k in zip(doc_ids, keys.tolist(),
                                                                        strict=True)],
                                  "doc_id": doc_ids, "block_id": keys})
        units["n_tokens"] = counts if isinstance(counts, np.ndarray) else \
            np.asarray(counts.sum(axis=1)).ravel()
        return units

    def to_dfm(self, *, min_df: int | float = 1, max_df: int | float = 1.0, min_count: int = 1,
               documents: pd.DataFrame | None = None) -> Any:
        """The merged `textmine.dfm.DocumentFeatureMatrix` (features sorted, df-filtered)."""
        from textmine.dfm import DocumentFeatureMatrix

        counts, features = self.matrix(min_df=min_df, max_df=max_df, min_count=min_count)
        units = self.units(counts)
        if documents is not None:
            units = units.merge(_unit_metadata(documents, units), on="doc_id", how="left")
        return DocumentFeatureMatrix(counts, features, units, self.unit, None)


@dataclass
class _MatrixPlan:
    features: np.ndarray  # kept features, sorted
    unit_freq: np.ndarray  # units holding each kept feature
    column: np.ndarray  # vocabulary id → column (-1: filtered out)
    nnz: int
    index_type: np.dtype


def _narrow_type(values: np.ndarray) -> np.dtype:
    """The narrowest unsigned (or, with negatives, signed) integer type holding `values`."""
    if not len(values):
        return np.dtype(np.uint8)
    low, high = int(values.min()), int(values.max())
    return np.result_type(np.min_scalar_type(low), np.min_scalar_type(high))


def _unit_metadata(documents: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """The documents' metadata columns that a units table gains (one row a doc_id)."""
    from textmine.dfm import TEXT_COLUMNS

    meta_cols = [c for c in documents.columns
                 if c not in TEXT_COLUMNS and c not in units.columns]
    meta = documents[["doc_id", *meta_cols]].astype({"doc_id": str})
    return meta.drop_duplicates("doc_id")


def term_ids(vocabulary: dict[str, int], term_lists: list[list[str]]) -> list[np.ndarray]:
    """Vocabulary ids of several documents' terms (new terms are added), one dictionary
    lookup a distinct term of the batch rather than one a term of each document."""
    sizes = [len(t) for t in term_lists]
    if not sum(sizes):
        return [np.zeros(0, np.int64) for _ in term_lists]
    codes, uniques = pd.factorize(np.concatenate([np.asarray(t, dtype=object)
                                                  for t in term_lists]))
    ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in uniques), np.int64,
                      len(uniques))[codes]
    return np.split(ids, np.cumsum(sizes)[:-1])


def idf_table(dfm: Any) -> pd.DataFrame:
    """term, df, idf over the matrix's units (smoothed: ln((1 + N) / (1 + df)), as keywords)."""
    counts = dfm.counts.tocsr()
    return _idf(np.bincount(counts.indices, minlength=counts.shape[1]), counts.shape[0],
                dfm.features)


def _idf(doc_freq: np.ndarray, n_units: int, features: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"term": features.astype(str), "df": doc_freq.astype(np.int64),
                         "idf": np.log((1.0 + n_units) / (1.0 + doc_freq))})


# --------------------------------------------------------------------------------------------
# Output folder: atomic files and the manifest
# --------------------------------------------------------------------------------------------
class _ParquetSink:
    """ParquetWriters writing to temporary files beside their targets; `commit` renames them
    all into place, `abort` removes them."""

    def __init__(self, out: Path):
        self.out = out
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.temps: dict[str, Path] = {}

    def write(self, name: str, table: pa.Table) -> None:
        writer = self.writers.get(name)
        if writer is None:
            from textmine.cache import temporary_path

            tmp = self.temps[name] = temporary_path(self.out / f"{name}.parquet")
            writer = self.writers[name] = pq.ParquetWriter(tmp, table.schema,
                                                           compression="zstd")
        writer.write_table(table)

    def commit(self) -> list[Path]:
        paths = []
        for name, writer in self.writers.items():
            writer.close()
            path = self.out / f"{name}.parquet"
            os.replace(self.temps[name], path)
            paths.append(path)
        self.writers.clear()
        return paths

    def abort(self) -> None:
        for writer in self.writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        for tmp in self.temps.values():
            tmp.unlink(missing_ok=True)
        self.writers.clear()


def _write_parquet(df: pd.DataFrame, path: Path) -> Path:
    from textmine.cache import atomic_writer

    with atomic_writer(path) as f:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), f, compression="zstd")
    return path


def save_dfm(dfm: Any, out: Path, name: str) -> list[Path]:
    """Write a matrix: `name.npz` (scipy sparse), `name_units` and `name_features` tables."""
    return [_save_counts(dfm.counts, out / f"{name}.npz"),
            _write_parquet(dfm.units, out / f"{name}_units.parquet"),
            _write_parquet(pd.DataFrame({"feature": dfm.features.astype(str)}),
                           out / f"{name}_features.parquet")]


def _save_counts(counts: sp.spmatrix, path: Path) -> Path:
    from textmine.cache import atomic_writer

    with atomic_writer(path) as f:
        sp.save_npz(f, counts.tocsr(), compressed=False)
    return path


#: Rows of a units table merged with the documents' metadata and written at a time.
UNITS_CHUNK_ROWS = 1 << 16


def _save_units(merger: CountMerger, meta: pd.DataFrame, out: Path, name: str,
                features: np.ndarray, n_tokens: np.ndarray | None = None) -> list[Path]:
    """The `name_units` (with the documents' metadata) and `name_features` tables of a merged
    matrix, as `save_dfm` writes them; the units table is built and written
    `UNITS_CHUNK_ROWS` rows at a time, so it is never all in memory. `n_tokens`: each unit's
    count of kept tokens (default: read back from `name.npz`)."""
    from textmine.cache import atomic_writer

    if n_tokens is None:
        n_tokens = np.asarray(sp.load_npz(out / f"{name}.npz").sum(axis=1)).ravel()
    path = out / f"{name}_units.parquet"
    if merger.n_units <= UNITS_CHUNK_ROWS:
        units = merger.units(n_tokens)
        _write_parquet(units.merge(_unit_metadata(meta, units), on="doc_id", how="left"), path)
    else:
        doc_ids = np.asarray(merger.doc_ids, dtype=object)
        unit_doc, unit_key = merger._units("unit_doc"), merger._units("unit_key")

        def frame(rows: np.ndarray | slice) -> pd.DataFrame:
            ids = doc_ids[unit_doc[rows]]
            if merger.unit == "document":
                units = pd.DataFrame({"unit": ids, "doc_id": ids})
            else:
                keys = unit_key[rows]
                units = pd.DataFrame({"unit": [f"{d}#p{k}" for d, k in zip(
                    ids, keys.tolist(), strict=True)], "doc_id": ids, "block_id": keys})
            units["n_tokens"] = n_tokens[rows]
            return units.merge(metadata, on="doc_id", how="left")

        light = ["unit", "doc_id", *(["block_id"] if merger.unit != "document" else []),
                 "n_tokens"]
        metadata = _unit_metadata(meta, pd.DataFrame(columns=light))
        # the schema from one unit of each document: the values the whole table holds
        schema = pa.Schema.from_pandas(frame(np.unique(unit_doc, return_index=True)[1]),
                                       preserve_index=False)
        with atomic_writer(path) as f, pq.ParquetWriter(f, schema, compression="zstd") as w:
            for start in range(0, merger.n_units, UNITS_CHUNK_ROWS):
                w.write_table(pa.Table.from_pandas(frame(slice(start, start + UNITS_CHUNK_ROWS)),
                                                   schema=schema, preserve_index=False))
    return [path, _write_parquet(pd.DataFrame({"feature": features.astype(str)}),
                                 out / f"{name}_features.parquet")]


def load_dfm(out: str | Path, unit: str = "document") -> Any:
    """A `DocumentFeatureMatrix` saved by `run_pipeline` (unit "document" or "paragraph")."""
    from textmine.dfm import DocumentFeatureMatrix

    out = Path(out)
    name = f"dfm_{unit}"
    counts = sp.load_npz(out / f"{name}.npz").tocsr()
    features = pd.read_parquet(out / f"{name}_features.parquet")["feature"].to_numpy(object)
    units = pd.read_parquet(out / f"{name}_units.parquet")
    return DocumentFeatureMatrix(counts, features, units, unit, None)


def read_output(out: str | Path, name: str) -> pd.DataFrame:
    """One table of a pipeline output folder as a DataFrame (e.g. "tokens", "topic_terms")."""
    path = Path(out) / f"{name}.parquet"
    if not path.is_file():
        present = ", ".join(sorted(p.stem for p in Path(out).glob("*.parquet"))) or "none"
        raise FileNotFoundError(f"{path}: no such table (tables there: {present})")
    return pd.read_parquet(path)


def load_clean_corpus(out: str | Path) -> Any:
    """The `CleanCorpus` (documents, blocks, sentences, ledger) of a pipeline output folder."""
    from textmine.clean import CleanCorpus

    return CleanCorpus(documents=read_output(out, "documents"), blocks=read_output(out, "blocks"),
                       sentences=read_output(out, "sentences"), ledger=read_output(out, "ledger"))


def _input_signature(corpus: str | Path | Sequence[Path], extra: str) -> str | None:
    """Names, sizes and modification times of every file under a corpus path, or under each of
    a list of paths (like `make`): equal signatures mean unchanged input without reading a byte
    of it."""
    paths = [Path(corpus)] if isinstance(corpus, (str, Path)) else [Path(p) for p in corpus]
    parts = []
    for path in paths:
        if not path.exists():
            return None
        entries = []
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            st = f.stat()
            entries.append((str(f.relative_to(path) if path.is_dir() else f.name), st.st_size,
                            st.st_mtime_ns))
        parts.append((str(path.resolve()), entries))
    return hashlib.sha256(repr((parts, extra)).encode()).hexdigest()


def _light_fingerprint(tokenizer: Any) -> str:
    """What the results depend on, computed without importing the engines (for the up-to-date
    check): the tokenizer's parameters and files, every file of the textmine package, and the
    versions of the libraries. Broader than `DocumentStages.fingerprint`, never narrower."""
    from importlib.metadata import PackageNotFoundError, version

    import textmine

    h = hashlib.sha256()
    package = Path(textmine.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".txt", ".tsv", ".json", ".toml"):
            h.update(str(path.relative_to(package)).encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    params = tokenizer.get_params() if hasattr(tokenizer, "get_params") else repr(tokenizer)
    h.update(repr((type(tokenizer).__qualname__, params)).encode())
    for name in (*getattr(tokenizer, "userdicts", ()), *getattr(tokenizer, "stopwords", ())):
        try:
            h.update(hashlib.sha256(Path(name).read_bytes()).digest())
        except OSError:
            h.update(b"missing")
    for dist in ("jieba", "rjieba", "pandas", "pyarrow", "numpy", "scipy", "scikit-learn"):
        try:
            h.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _outputs_present(out: Path, manifest: dict[str, Any], names: Iterable[str]) -> bool:
    sizes = manifest.get("files", {})
    for name in names:
        path = out / name
        if name not in sizes or not path.is_file() or path.stat().st_size != sizes[name]:
            return False
    return True


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
@dataclass
class PipelineResult:
    """What a run did: the output folder, documents computed or taken from the cache, timings.

    `up_to_date`: the folder already held these results (nothing was done); `corpus_steps`:
    the matrices and topics were computed (False when copied from the cache or up to date).
    """

    out: Path
    n_documents: int
    computed: int = 0
    cached: int = 0
    skipped: pd.DataFrame | None = None
    up_to_date: bool = False
    corpus_steps: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def read(self, name: str) -> pd.DataFrame:
        """One output table as a DataFrame."""
        return read_output(self.out, name)

    def dfm(self, unit: str = "document") -> Any:
        """The merged document-feature matrix (unit "document" or "paragraph")."""
        return load_dfm(self.out, unit)


def _batches(items: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    size = 0
    for doc_id, raw in items:
        batch.append((doc_id, raw))
        size += len(raw)
        if size >= BATCH_CHARS or len(batch) >= BATCH_DOCUMENTS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _documents_schema(meta: pd.DataFrame) -> pa.Schema:
    """The documents table's schema, inferred from the whole metadata (no text in it)."""
    frame = meta.copy()
    frame["text"] = pd.Series([""] * len(frame), index=frame.index, dtype="str")
    frame["n_chars"] = np.zeros(len(frame), dtype=np.int64)
    frame["n_repairs"] = np.zeros(len(frame), dtype=np.int64)
    return pa.Schema.from_pandas(frame, preserve_index=False)


def _documents_table(meta: pd.DataFrame, fields: list[dict[str, Any]], schema: pa.Schema
                     ) -> pa.Table:
    """The documents rows of a batch: loaded metadata, cleaned text, title/author filled
    (`fields`: each document's `DocumentResult.fields`)."""
    from textmine.clean import COPIED_METADATA

    frame = meta.copy()
    frame["text"] = [f["text"] for f in fields]
    frame["n_chars"] = np.asarray([f["n_chars"] for f in fields], dtype=np.int64)
    frame["n_repairs"] = np.asarray([f["n_repairs"] for f in fields], dtype=np.int64)
    for key in COPIED_METADATA:
        if key not in frame.columns:
            continue
        fill = pd.Series([f.get(key) for f in fields], index=frame.index)
        current = frame[key]
        empty = current.isna() | (current.astype("string").str.strip() == "")
        mask = empty & fill.notna()
        if mask.any():
            frame[key] = frame[key].astype(object)
            frame.loc[mask, key] = fill[mask]
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


class _FieldSpool:
    """The documents' cleaned text and filled fields, a batch at a time in a temporary Parquet
    file beside the outputs: the documents table needs the whole corpus's metadata for its
    schema, so it is written at the end, a batch at a time, from this spool and the metadata
    (which holds no text)."""

    def __init__(self, out: Path):
        from textmine.cache import temporary_path
        from textmine.clean import COPIED_METADATA

        self.keys = COPIED_METADATA
        self.schema = pa.schema([("text", _STRING), ("n_chars", _INT), ("n_repairs", _INT),
                                 *[(k, _STRING) for k in COPIED_METADATA]])
        self.path = temporary_path(out / "documents.fields")
        self.writer: pq.ParquetWriter | None = pq.ParquetWriter(self.path, self.schema)
        self.sizes: list[int] = []

    def write(self, fields: list[dict[str, Any]]) -> None:
        assert self.writer is not None
        columns = {"text": [f["text"] for f in fields],
                   "n_chars": [f["n_chars"] for f in fields],
                   "n_repairs": [f["n_repairs"] for f in fields],
                   **{k: [_as_text(f.get(k)) for f in fields] for k in self.keys}}
        self.writer.write_table(pa.table(columns, schema=self.schema))
        self.sizes.append(len(fields))

    def batches(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(first row, fields of each document) a batch, in the order written."""
        self.close()
        reader = pq.ParquetFile(self.path)
        first = 0
        for group, size in enumerate(self.sizes):
            fields = reader.read_row_group(group).to_pylist()
            assert len(fields) == size
            yield first, fields
            first += size

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def remove(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        self.path.unlink(missing_ok=True)


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


class _Source:
    """The pipeline's input, a document at a time: `items()` yields (doc_id, raw text); `meta()`
    is then the documents table without its text (metadata only: small).

    A folder, a file or a list of them is read one file at a time (`DocumentStream`), so the
    raw text of only the documents in flight is ever in memory; a `Corpus` or texts already in
    memory are walked as they are.
    """

    def __init__(self, corpus: Any, config: Config):
        from textmine.corpus import Corpus, DocumentStream

        self.stream: DocumentStream | None = None
        self.corpus: Corpus | None = None
        if isinstance(corpus, Corpus):
            self.corpus = corpus
        elif isinstance(corpus, (str, Path)) or _paths(corpus):
            self.stream = DocumentStream(corpus if isinstance(corpus, (str, Path))
                                         else list(corpus), config=config)
        elif isinstance(corpus, (dict, list)):
            self.corpus = Corpus.from_texts(corpus)
        else:
            raise TypeError(f"run_pipeline expects a corpus folder, file, Corpus or texts, not "
                            f"{type(corpus).__name__}")
        self._columns: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._rows: list[tuple[tuple[str, ...], tuple[Any, ...]]] = []

    def __len__(self) -> int:
        return len(self.corpus) if self.corpus is not None else len(self.stream or ())

    @property
    def in_memory(self) -> bool:
        return self.corpus is not None

    def items(self) -> Iterator[tuple[str, str]]:
        if self.corpus is not None:
            docs = self.corpus.documents
            yield from zip((str(d) for d in docs["doc_id"]), docs["text"], strict=True)
            return
        assert self.stream is not None
        import warnings

        from textmine.corpus import SkippedFilesWarning

        self._rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedFilesWarning)  # reported in the result
            for row in self.stream:
                raw = row.pop("text")
                row.pop("original_text", None)
                # a row kept as (shared column names, values): no dict a document
                names = tuple(row)
                names = self._columns.setdefault(names, names)
                self._rows.append((names, tuple(row.values())))
                doc_id = str(row["doc_id"])
                del row
                yield doc_id, raw

    def meta(self) -> pd.DataFrame:
        """The documents table without `text` / `original_text` (after `items()`)."""
        if self.corpus is not None:
            documents = self.corpus.documents
            return documents.drop(columns=[c for c in ("text", "original_text")
                                           if c in documents])
        assert self.stream is not None
        rows = [dict(zip(names, values, strict=True)) for names, values in self._rows]
        frame = self.stream.frame(rows)
        return frame.drop(columns=["text", "original_text"])

    @property
    def skipped(self) -> pd.DataFrame | None:
        if self.corpus is not None:
            return self.corpus.skipped
        assert self.stream is not None
        return self.stream.skipped_frame()


def _paths(corpus: Any) -> bool:
    """A non-empty list of folder and file paths (rather than a list of texts)."""
    return isinstance(corpus, (list, tuple)) and bool(corpus) and all(
        isinstance(c, Path) for c in corpus)


def run_pipeline(corpus: Any, out: str | Path, *, config: Config | None = None,
                 tokenizer: Any = None, n_jobs: int | None = 1, scheduler: Any = None,
                 cache: Any = None, use_cache: bool | None = None, quiet: bool = False,
                 topics: bool = True, topic_k: int | Sequence[int] | None = None,
                 topic_method: str = "nmf", topic_seeds: Sequence[int] = (1, 2, 3),
                 minibatch: bool | str = "auto", include_quotes: bool = False
                 ) -> PipelineResult:
    """Run every document stage and the corpus-wide steps on `corpus`, tables into `out/`.

    corpus: a folder or file, or a list of `Path`s (read one file at a time, as
    `textmine.corpus.DocumentStream`: the raw text of the whole corpus is never in memory), a
    `Corpus`, or texts (dict or list of strings).
    n_jobs / scheduler: a process pool or a Dask cluster (Client or address) for the document
    stages; identical tables whatever the engine. cache: a `textmine.cache.Cache` (default: one
    at `config.cache_dir`; `use_cache=False` or `config.use_cache=False` turns it off).
    topics: fit topic models on the paragraph matrix (k: `topic_k`, default
    `config.topic_range`; `topic_seeds` for stability, () to skip it; MiniBatchNMF / online LDA
    when `minibatch` is True or "auto" and the matrix is large). Returns a `PipelineResult`.
    """
    from textmine.cache import Cache, remove_stale_temporaries
    from textmine.segment import Tokenizer

    started = time.perf_counter()
    config = config or Config()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)  # what a killed run left; never a running one's files
    if use_cache is None:
        use_cache = config.use_cache
    if cache is None:
        cache = Cache(config.cache_dir, enabled=use_cache)
    elif not use_cache:
        cache = Cache(cache.directory, enabled=False)
    root = getattr(corpus, "root", None)  # a Corpus loaded from a folder
    if isinstance(corpus, (str, Path)):
        root = Path(corpus) if Path(corpus).is_dir() else Path(corpus).parent
    if tokenizer is None:
        tokenizer = Tokenizer.from_config(config, root)
    ks = _topic_ks(topic_k, config)
    corpus_settings = repr((topics, ks, topic_method, tuple(topic_seeds), minibatch,
                            config.random_state))
    manifest = _read_manifest(out)
    signature = None
    if isinstance(corpus, (str, Path)) or _paths(corpus):
        signature = _input_signature(corpus, _light_fingerprint(tokenizer) + corpus_settings +
                                     repr((config.to_dict(), include_quotes)))
        if (signature is not None and manifest.get("input_signature") == signature
                and _outputs_present(out, manifest, manifest.get("files", {}))):
            n = int(manifest.get("n_documents", 0))
            return PipelineResult(out, n, 0, n, up_to_date=True, corpus_steps=False,
                                  timings={"total": time.perf_counter() - started},
                                  files=[out / f for f in manifest["files"]])

    stages = DocumentStages(tokenizer, analysis_kinds=config.analysis_kinds,
                            include_quotes=include_quotes)
    source = _Source(corpus, config)
    result = PipelineResult(out, 0)
    if source.in_memory:  # the text is at hand: an unchanged corpus is found without work
        digest = _documents_digest(stages.document_key(d, r) for d, r in source.items())
        corpus_key = _corpus_key(digest, corpus_settings)
        table_files = [f"{name}.parquet" for name in DOCUMENT_TABLES]
        if (manifest.get("documents_digest") == digest and manifest.get("corpus_key") == corpus_key
                and _outputs_present(out, manifest, table_files)
                and _outputs_present(out, manifest, manifest.get("files", {}))):
            n = len(source)
            result = PipelineResult(out, n, 0, n, skipped=source.skipped, up_to_date=True,
                                    corpus_steps=False, files=[out / f for f in manifest["files"]])
            _write_manifest(out, manifest | {"input_signature": signature})
            result.timings["total"] = time.perf_counter() - started
            return result

    t_load = time.perf_counter()
    result.timings["load"] = t_load - started
    try:
        meta, digest, files, mergers = _document_stages(
            source, stages, out, result, cache=cache, n_jobs=n_jobs, scheduler=scheduler,
            quiet=quiet)
    finally:
        _STAGES_IN_PROCESS.pop(stages.memo_key(), None)
        stages.cache = None
    result.skipped = source.skipped
    corpus_key = _corpus_key(digest, corpus_settings)
    t_docs = time.perf_counter()
    result.timings["documents"] = t_docs - t_load
    try:
        files += _corpus_outputs(mergers, meta, out, result, cache, corpus_key, topics=topics,
                                 ks=ks, method=topic_method, seeds=topic_seeds,
                                 minibatch=minibatch, random_state=config.random_state,
                                 quiet=quiet)
    finally:
        for merger in mergers.values():
            merger.close()
    result.timings["corpus"] = time.perf_counter() - t_docs
    result.files = files
    _write_manifest(out, {
        "textmine_pipeline": PIPELINE_VERSION, "n_documents": result.n_documents,
        "input_signature": signature, "settings": stages.fingerprint,
        "documents_digest": digest, "corpus_key": corpus_key,
        "files": {p.name: p.stat().st_size for p in files}})
    result.timings["total"] = time.perf_counter() - started
    return result


def _release_memory(pool: pa.MemoryPool) -> None:
    """Give freed memory back to the system after a batch: Arrow's allocator keeps freed pages
    for a while (measured: the documents table, written from the spool, grew the resident size
    by ~1 MB a batch without this), and glibc's malloc keeps the top of its heap."""
    pool.release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def _documents_digest(keys: Iterable[str]) -> str:
    """One hash of every document's cache key, in order (what the manifest compares)."""
    h = hashlib.sha256()
    for key in keys:
        h.update(key.encode("ascii"))
    return h.hexdigest()


def _corpus_key(digest: str, corpus_settings: str) -> str:
    return hashlib.sha256(repr((digest, corpus_settings)).encode()).hexdigest()


def _document_stages(source: _Source, stages: DocumentStages, out: Path, result: PipelineResult,
                     *, cache: Any, n_jobs: int | None, scheduler: Any, quiet: bool
                     ) -> tuple[pd.DataFrame, str, list[Path], dict[str, CountMerger]]:
    """Every document stage on every document of `source`, a window of batches at a time.

    Documents are read from `source` only as batches are submitted (at most `Engine.window`
    batches in flight), their tables stream to Parquet and their counts into the mergers; the
    documents table is written last, from the spooled text and the metadata. Returns the
    metadata, the digest of the document keys, the files written and the count mergers.
    """
    from textmine.parallel import Engine, progress

    vocabulary: dict[str, int] = {}
    # the counts wait for the corpus-wide steps in temporary files beside the outputs
    mergers = {unit: CountMerger(unit, vocabulary, spill=out) for unit in DFM_UNITS}
    sink = _ParquetSink(out)
    spool = _FieldSpool(out)
    digest = hashlib.sha256()
    pool = pa.default_memory_pool()
    worker_cache = cache if cache.enabled else None
    try:
        with Engine(n_jobs, scheduler) as engine:
            if engine.kind != "dask":
                stages.cache = worker_cache  # workers store their results as they go
                # forked pool workers find it here rather than rebuilding it per batch
                _STAGES_IN_PROCESS[stages.memo_key()] = stages
            bar = progress(None, total=len(source), desc="documents", quiet=quiet) \
                if not quiet else None
            pending: deque[tuple[list[str], list[DocumentResult | None], Any]] = deque()

            def drain(entry: tuple[list[str], list[DocumentResult | None], Any]) -> None:
                keys, slots, future = entry
                computed = iter(future.result() if future is not None else ())
                results = [slot if slot is not None else next(computed) for slot in slots]
                for key, r in zip(keys, results, strict=True):
                    if not r.cached:
                        result.computed += 1
                        if engine.kind == "dask" and cache.enabled:
                            cache.put("pipeline", key, r.pack())
                    else:
                        result.cached += 1
                for name in DOCUMENT_TABLES[1:]:
                    sink.write(name, pa.concat_tables([r.tables[name] for r in results]))
                spool.write([r.fields for r in results])
                ids = term_ids(vocabulary, [r.counts["terms"] for r in results])
                for r, doc_ids_ in zip(results, ids, strict=True):
                    for unit, merger in mergers.items():
                        merger.add(r.doc_id, r.counts[unit], doc_ids_)
                del results
                _release_memory(pool)
                if bar is not None:
                    bar.update(len(keys))

            for batch in _batches(source.items()):
                keys, slots, todo = [], [], []
                for doc_id, raw in batch:
                    key = stages.document_key(doc_id, raw)
                    digest.update(key.encode("ascii"))
                    keys.append(key)
                    found, value = cache.get("pipeline", key) if cache.enabled \
                        else (False, None)
                    if found and isinstance(value, tuple) and value[0] == PIPELINE_VERSION:
                        slots.append(DocumentResult.unpack(value))
                    else:
                        slots.append(None)
                        todo.append((doc_id, raw))
                result.n_documents += len(batch)
                del batch
                future = engine.submit(stages, todo) if todo else None
                del todo
                pending.append((keys, slots, future))
                while len(pending) >= engine.window:
                    drain(pending.popleft())
            while pending:
                drain(pending.popleft())
            if bar is not None:
                bar.close()
        for merger in mergers.values():
            merger.compact()
        meta = source.meta()
        schema = _documents_schema(meta)
        for first, fields in spool.batches():
            sink.write("documents", _documents_table(meta.iloc[first:first + len(fields)],
                                                     fields, schema))
            del fields
            _release_memory(pool)
        files = sink.commit()
    except BaseException:
        sink.abort()
        for merger in mergers.values():
            merger.close()
        raise
    finally:
        spool.remove()
    return meta, digest.hexdigest(), files, mergers


def _corpus_outputs(mergers: dict[str, CountMerger], meta: pd.DataFrame, out: Path,
                    result: PipelineResult, cache: Any, corpus_key: str, **options: Any
                    ) -> list[Path]:
    """The corpus-wide files: copied from the cache when the same documents and settings were
    seen before, else computed by `_corpus_steps` (and stored in the cache)."""
    from textmine.cache import make_key

    found, stored = cache.get("pipeline-corpus", corpus_key) if cache.enabled else (False, None)
    if found and isinstance(stored, dict) and all(isinstance(k, str) for k in stored.values()):
        # same documents, same settings: copy the files (each its own entry, streamed)
        for name in _CORPUS_FILES:
            if name not in stored:
                (out / name).unlink(missing_ok=True)
        if all(cache.get_file("pipeline-corpus", file_key, out / name)
               for name, file_key in stored.items()):
            result.corpus_steps = False
            return [out / name for name in stored]
    produced = _corpus_steps(mergers, meta, out, **options)
    if cache.enabled:
        keys = {}
        for path in produced:
            keys[path.name] = make_key("pipeline-corpus-file", corpus_key, path.name)
            cache.put_file("pipeline-corpus", keys[path.name], path)
        cache.put("pipeline-corpus", corpus_key, keys)
    return produced


#: Files of the corpus-wide steps (those present depend on the settings).
_CORPUS_FILES = tuple(f"{m}{suffix}" for m in ("dfm_document", "dfm_paragraph")
                      for suffix in (".npz", "_units.parquet", "_features.parquet")) + tuple(
    f"{name}.parquet" for name in ("idf", "topic_terms", "doc_topics", "topic_labels",
                                   "topic_selection"))


def _topic_ks(topic_k: int | Sequence[int] | None, config: Config) -> list[int]:
    if topic_k is None:
        low, high = config.topic_range
        return list(range(int(low), int(high) + 1))
    if isinstance(topic_k, (int, np.integer)):
        return [int(topic_k)]
    return [int(k) for k in topic_k]


def _corpus_steps(mergers: dict[str, CountMerger], meta: pd.DataFrame, out: Path, *,
                  topics: bool, ks: list[int], method: str, seeds: Sequence[int],
                  minibatch: bool | str, random_state: int, quiet: bool) -> list[Path]:
    """Document and paragraph matrices, IDF and topics from the merged counts."""
    import sys

    from textmine.dfm import DocumentFeatureMatrix

    files: list[Path] = []
    merger = mergers["document"]
    features, doc_freq, _ = merger.save_npz(out / "dfm_document.npz")
    files += [out / "dfm_document.npz",
              *_save_units(merger, meta, out, "dfm_document", features)]
    files.append(_write_parquet(_idf(doc_freq, merger.n_units, features), out / "idf.parquet"))
    merger.close()
    merger = mergers["paragraph"]
    large = merger.n_units >= 1000  # as textmine.topics.topic_dfm
    features, _, n_tokens = merger.save_npz(out / "dfm_paragraph.npz",
                                            min_df=5 if large else 2,
                                            max_df=0.05 if large else 0.2)
    files += [out / "dfm_paragraph.npz",
              *_save_units(merger, meta, out, "dfm_paragraph", features, n_tokens)]
    # the topic models need the matrix and its units (not their metadata, in the units table)
    para = DocumentFeatureMatrix(sp.load_npz(out / "dfm_paragraph.npz").tocsr(), features,
                                 merger.units(n_tokens), "paragraph", None) if topics else None
    merger.close()
    for name in ("topic_terms", "doc_topics", "topic_labels", "topic_selection"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    if topics:
        from textmine.topics import fit_topics

        assert para is not None
        usable = [k for k in ks if 2 * k <= para.shape[0]]
        if not usable or para.shape[1] == 0:
            if not quiet:
                print(f"topics: skipped ({para.shape[0]} paragraphs, {para.shape[1]} features "
                      f"are too few for k={ks})", file=sys.stderr)
            return files
        if not quiet:
            print(f"topics: {method}, k={usable} on {para.shape[0]:,} paragraphs × "
                  f"{para.shape[1]:,} terms", file=sys.stderr)
        from threadpoolctl import threadpool_limits

        # One BLAS thread: identical floating-point sums on every run and machine, and no
        # threads spinning against the document workers on a busy machine.
        with threadpool_limits(limits=1, user_api="blas"):
            model = fit_topics(para, method=method, k=usable, random_state=random_state,
                               seeds=tuple(seeds), minibatch=minibatch)
        for name, table in (("topic_terms", model.topic_terms), ("doc_topics", model.doc_topics),
                            ("topic_labels", model.labels),
                            ("topic_selection", model.selection)):
            files.append(_write_parquet(table, out / f"{name}.parquet"))
    return files


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    from textmine.cache import atomic_write_bytes

    atomic_write_bytes(out / "manifest.json",
                       json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
