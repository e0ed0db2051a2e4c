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

import hashlib
import json
import os
import re
import tempfile
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
BATCH_CHARS = 120_000
BATCH_DOCUMENTS = 64

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
        """A compact form for the on-disk cache: each table as (compressed) Arrow IPC."""
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
        self._feature_memo: dict[tuple[str, str, bool], tuple[bool, bool]] = {}
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
        """Every document stage on one document's raw text."""
        from textmine.clean import COPIED_METADATA, _clean_columns
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

        tables = {
            "blocks": _table("blocks", doc_id, c.blocks),
            "sentences": _table("sentences", doc_id, {**sents, "kind": sent_kind}),
            "ledger": _table("ledger", doc_id, c.ledger),
        }
        # One figure scan of the text and one formulation scan a sentence serve every stage.
        figures = figure_spans(text)
        protected = None
        if isinstance(self.tokenizer, Tokenizer):
            protected = self.tokenizer.protected_spans(text, figures=figures)
        cols = self.tokenizer.tokenize_document(text, select(self.analysis_kinds),
                                                spans=protected)
        coded = _Coded(cols)
        cols["token_id"] = np.arange(len(cols["token"]), dtype=np.int64)
        cols["token"] = coded.token_array()
        cols["pos"] = coded.pos_array()
        tables["tokens"] = _table("tokens", doc_id, cols)
        scans: dict[int, list[Span]] = {}
        formulation_rows = self._formulations(doc_id, c.sentences, sent_kind, scans)
        rows = quantities_of_text(text, select(self.quantity_kinds), doc_id, figures=figures,
                                  formulations=scans)
        rows.sort(key=lambda r: r["start"])  # as extract_quantities orders them
        tables["quantities"] = _rows_table("quantities", rows)
        tables["formulations"] = _rows_table("formulations", formulation_rows)
        fields = {"text": text, "n_chars": len(text), "n_repairs": c.metadata["n_repairs"]}
        for key in COPIED_METADATA:
            fields[key] = c.metadata.get(key)
        block_of_sentence = np.asarray(sents["block_id"], dtype=np.int64)
        return DocumentResult(doc_id, tables, fields, self._counts(coded, cols,
                                                                   block_of_sentence))

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

    def _feature_flags(self, combos: list[tuple[str, str, bool]]) -> None:
        """Decide, once a process, which (token, pos, is_stop) can be a feature of the document
        matrix (the defaults of `textmine.dfm.filter_tokens`) and of the topic matrix (topic
        parts of speech): the same rules, one token at a time (tests check the merged matrices
        against `build_dfm`)."""
        from textmine.dfm import DEFAULT_POS_DROP
        from textmine.topics import TOPIC_POS

        drop, topic = tuple(DEFAULT_POS_DROP), tuple(TOPIC_POS)
        memo = self._feature_memo
        for combo in combos:
            token, pos, stop = combo
            word = not stop and len(token) >= 2 and _WORDLIKE.search(token) is not None \
                and not pos.startswith(drop)
            memo[combo] = (word, word and pos.startswith(topic))

    def _counts(self, coded: _Coded, cols: dict[str, Any], block_of_sentence: np.ndarray
                ) -> dict[str, Any]:
        """Sparse counts of the document's features: its `terms`, and per unit (the document
        itself, each paragraph holding a token) the unit keys, rows, term columns, counts."""
        n = len(coded.token_code)
        if n == 0:
            empty = np.zeros(0, np.int32)
            return {"terms": [], **{unit: ([], empty, empty, empty) for unit in DFM_UNITS}}
        # one decision a distinct (token, pos, is_stop), not one a token
        token_code, token_uniques = coded.token_code, coded.token_uniques
        pos_code, pos_uniques = coded.pos_code, coded.pos_uniques
        combo = (token_code.astype(np.int64) * len(pos_uniques) + pos_code) * 2 + \
            cols["is_stop"].astype(np.int64)
        combo_of_token, combo_keys = pd.factorize(combo)  # hashing, not sorting
        combo_tokens = token_uniques[combo_keys // 2 // len(pos_uniques)]
        combo_pos = pos_uniques[combo_keys // 2 % len(pos_uniques)]
        combos = list(zip(combo_tokens.tolist(), combo_pos.tolist(),
                          (combo_keys % 2 == 1).tolist(), strict=True))
        memo = self._feature_memo
        new = [c for c in combos if c not in memo]
        if new:
            self._feature_flags(new)
        combo_flags = np.array([memo[c] for c in combos], dtype=bool).reshape(-1, 2)
        flags = combo_flags[combo_of_token]
        # the topic features are document features too: one term list serves both units
        used = np.flatnonzero(np.bincount(token_code[flags[:, 0]],
                                          minlength=len(token_uniques)))
        term_col = np.full(len(token_uniques), -1, dtype=np.int64)
        term_col[used] = np.arange(len(used))
        out: dict[str, Any] = {"terms": token_uniques[used].tolist()}
        blocks = block_of_sentence[cols["sent_id"]]
        width = max(len(used), 1)
        per_term = np.bincount(term_col[token_code[flags[:, 0]]], minlength=len(used))
        out["document"] = ([0], np.zeros(len(used), np.int32), np.arange(len(used), dtype=np.int32),
                           per_term.astype(np.int32))
        unit_keys, row_of_token = np.unique(blocks, return_inverse=True)
        keep = flags[:, 1]
        pairs, counts = np.unique(row_of_token[keep] * width + term_col[token_code[keep]],
                                  return_counts=True)
        out["paragraph"] = (unit_keys.tolist(), (pairs // width).astype(np.int32),
                            (pairs % width).astype(np.int32), counts.astype(np.int32))
        return out


class _Coded:
    """A document's tokens and tags as codes into their distinct values (pandas.factorize):
    shared by the tokens table (built by gathering the distinct strings, in Arrow) and the
    counts."""

    def __init__(self, cols: dict[str, np.ndarray]):
        self.token_code, self.token_uniques = pd.factorize(cols["token"])
        self.pos_code, self.pos_uniques = pd.factorize(cols["pos"])

    def token_array(self) -> pa.Array:
        return _gather(self.token_uniques, self.token_code)

    def pos_array(self) -> pa.Array:
        return _gather(self.pos_uniques, self.pos_code)


def _gather(uniques: np.ndarray, codes: np.ndarray) -> pa.Array:
    import pyarrow.compute as pc

    return pc.take(pa.array(uniques, type=_STRING), pa.array(codes.astype(np.int32)))


def _table(name: str, doc_id: str, columns: dict[str, Any]) -> pa.Table:
    schema = SCHEMAS[name]
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for f in schema:
        if f.name == "doc_id":
            arrays.append(_gather(np.asarray([doc_id], dtype=object), np.zeros(n, np.int32)))
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
    table with the same filters.
    """

    def __init__(self, unit: str, vocabulary: dict[str, int] | None = None):
        if unit not in DFM_UNITS:
            raise ValueError(f"unit must be one of {DFM_UNITS}, not {unit!r}")
        self.unit = unit
        self.vocabulary: dict[str, int] = {} if vocabulary is None else vocabulary
        self.unit_doc: list[str] = []
        self.unit_key: list[int] = []
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._data: list[np.ndarray] = []

    def add(self, doc_id: str, counts: tuple[list[int], np.ndarray, np.ndarray, np.ndarray],
            ids: np.ndarray) -> None:
        """Append one document's units and counts; `ids` maps its term columns to the
        vocabulary's (see `term_ids`)."""
        unit_keys, rows, cols, data = counts
        first_row = len(self.unit_doc)
        self.unit_doc.extend([doc_id] * len(unit_keys))
        self.unit_key.extend(unit_keys)
        if len(data):
            self._rows.append(rows.astype(np.int64) + first_row)
            self._cols.append(ids[cols])
            self._data.append(data.astype(np.int64))

    def to_dfm(self, *, min_df: int | float = 1, max_df: int | float = 1.0, min_count: int = 1,
               documents: pd.DataFrame | None = None) -> Any:
        """The merged `textmine.dfm.DocumentFeatureMatrix` (features sorted, df-filtered)."""
        from textmine.dfm import TEXT_COLUMNS, DocumentFeatureMatrix, filter_features

        terms = np.asarray(list(self.vocabulary), dtype=object)
        order = np.argsort(terms.astype(str), kind="stable")
        new_col = np.empty(len(order), dtype=np.int64)
        new_col[order] = np.arange(len(order))
        features = terms[order]
        n_units = len(self.unit_doc)
        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)

        counts = sp.csr_matrix((cat(self._data), (cat(self._rows), new_col[cat(self._cols)])),
                               shape=(n_units, len(features)), dtype=np.int64)
        counts.sum_duplicates()
        counts, features = filter_features(counts, features, min_df=min_df, max_df=max_df,
                                           min_count=min_count)
        doc_ids = np.asarray(self.unit_doc, dtype=object)
        if self.unit == "document":
            units = pd.DataFrame({"unit": doc_ids, "doc_id": doc_ids})
        else:
            keys = np.asarray(self.unit_key, dtype=np.int64)
            units = pd.DataFrame({"unit": [f"{d}#p{k}" for d, k in zip(doc_ids, keys,
                                                                        strict=True)],
                                  "doc_id": doc_ids, "block_id": keys})
        units["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel()
        if documents is not None:
            meta_cols = [c for c in documents.columns
                         if c not in TEXT_COLUMNS and c not in units.columns]
            meta = documents[["doc_id", *meta_cols]].astype({"doc_id": str})
            units = units.merge(meta.drop_duplicates("doc_id"), on="doc_id", how="left")
        return DocumentFeatureMatrix(counts, features, units, self.unit, None)


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
    doc_freq = np.diff(dfm.counts.tocsc().indptr)
    n_units = dfm.counts.shape[0]
    return pd.DataFrame({"term": dfm.features.astype(str), "df": doc_freq.astype(np.int64),
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
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet.tmp", dir=self.out)
            os.close(fd)
            self.temps[name] = Path(tmp)
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
    from textmine.cache import atomic_write_bytes

    buffer = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue().to_pybytes())
    return path


def save_dfm(dfm: Any, out: Path, name: str) -> list[Path]:
    """Write a matrix: `name.npz` (scipy sparse), `name_units` and `name_features` tables."""
    import io

    from textmine.cache import atomic_write_bytes

    buffer = io.BytesIO()
    sp.save_npz(buffer, dfm.counts.tocsr(), compressed=False)
    atomic_write_bytes(out / f"{name}.npz", buffer.getvalue())
    return [out / f"{name}.npz", _write_parquet(dfm.units, out / f"{name}_units.parquet"),
            _write_parquet(pd.DataFrame({"feature": dfm.features.astype(str)}),
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


def _input_signature(path: Path, extra: str) -> str | None:
    """Names, sizes and modification times of every file under a corpus path (like `make`):
    equal signatures mean unchanged input without reading a byte of it."""
    if not path.exists():
        return None
    entries = []
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        st = f.stat()
        entries.append((str(f.relative_to(path) if path.is_dir() else f.name), st.st_size,
                        st.st_mtime_ns))
    return hashlib.sha256(repr((str(path.resolve()), entries, extra)).encode()).hexdigest()


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


def _documents_table(meta: pd.DataFrame, results: list[DocumentResult], schema: pa.Schema
                     ) -> pa.Table:
    """The documents rows of a batch: loaded metadata, cleaned text, title/author filled."""
    from textmine.clean import COPIED_METADATA

    frame = meta.copy()
    frame["text"] = [r.fields["text"] for r in results]
    frame["n_chars"] = np.asarray([r.fields["n_chars"] for r in results], dtype=np.int64)
    frame["n_repairs"] = np.asarray([r.fields["n_repairs"] for r in results], dtype=np.int64)
    for key in COPIED_METADATA:
        if key not in frame.columns:
            continue
        fill = pd.Series([r.fields.get(key) for r in results], index=frame.index)
        current = frame[key]
        empty = current.isna() | (current.astype("string").str.strip() == "")
        mask = empty & fill.notna()
        if mask.any():
            frame[key] = frame[key].astype(object)
            frame.loc[mask, key] = fill[mask]
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def _prepare_corpus(corpus: Any, config: Config) -> tuple[Any, Path | None]:
    from textmine.corpus import Corpus, load_corpus

    if isinstance(corpus, Corpus):
        return corpus, corpus.root
    if isinstance(corpus, (str, Path)):
        import warnings

        from textmine.corpus import SkippedFilesWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedFilesWarning)  # reported in the result
            loaded = load_corpus(Path(corpus), config=config)
        return loaded, Path(corpus) if Path(corpus).is_dir() else Path(corpus).parent
    if isinstance(corpus, (dict, list)):
        return Corpus.from_texts(corpus), None
    raise TypeError(f"run_pipeline expects a corpus folder, file, Corpus or texts, not "
                    f"{type(corpus).__name__}")


def run_pipeline(corpus: Any, out: str | Path, *, config: Config | None = None,
                 tokenizer: Any = None, n_jobs: int | None = 1, scheduler: Any = None,
                 cache: Any = None, use_cache: bool | None = None, quiet: bool = False,
                 topics: bool = True, topic_k: int | Sequence[int] | None = None,
                 topic_method: str = "nmf", topic_seeds: Sequence[int] = (1, 2, 3),
                 minibatch: bool | str = "auto", include_quotes: bool = False
                 ) -> PipelineResult:
    """Run every document stage and the corpus-wide steps on `corpus`, tables into `out/`.

    corpus: a folder or file (loaded with `load_corpus`), a `Corpus`, or texts (dict or list).
    n_jobs / scheduler: a process pool or a Dask cluster (Client or address) for the document
    stages; identical tables whatever the engine. cache: a `textmine.cache.Cache` (default: one
    at `config.cache_dir`; `use_cache=False` or `config.use_cache=False` turns it off).
    topics: fit topic models on the paragraph matrix (k: `topic_k`, default
    `config.topic_range`; `topic_seeds` for stability, () to skip it; MiniBatchNMF / online LDA
    when `minibatch` is True or "auto" and the matrix is large). Returns a `PipelineResult`.
    """
    from textmine.cache import Cache
    from textmine.parallel import Engine, progress
    from textmine.segment import Tokenizer

    started = time.perf_counter()
    config = config or Config()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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
    if isinstance(corpus, (str, Path)):
        signature = _input_signature(Path(corpus), _light_fingerprint(tokenizer) +
                                     corpus_settings + repr((config.to_dict(), include_quotes)))
        if (signature is not None and manifest.get("input_signature") == signature
                and _outputs_present(out, manifest, manifest.get("files", {}))):
            n = int(manifest.get("n_documents", 0))
            return PipelineResult(out, n, 0, n, up_to_date=True, corpus_steps=False,
                                  timings={"total": time.perf_counter() - started},
                                  files=[out / f for f in manifest["files"]])

    stages = DocumentStages(tokenizer, analysis_kinds=config.analysis_kinds,
                            include_quotes=include_quotes)
    loaded, _ = _prepare_corpus(corpus, config)
    t_load = time.perf_counter()
    documents = loaded.documents
    doc_ids = [str(d) for d in documents["doc_id"]]
    raws = list(documents["text"])
    meta = documents.drop(columns=[c for c in ("text", "original_text") if c in documents])
    keys = [stages.document_key(d, r) for d, r in zip(doc_ids, raws, strict=True)]
    corpus_key = hashlib.sha256(repr((keys, corpus_settings)).encode()).hexdigest()
    table_files = [f"{name}.parquet" for name in DOCUMENT_TABLES]
    result = PipelineResult(out, len(doc_ids), skipped=loaded.skipped)
    result.timings["load"] = t_load - started
    documents_done = (manifest.get("document_keys") == keys
                      and _outputs_present(out, manifest, table_files))
    corpus_done = documents_done and manifest.get("corpus_key") == corpus_key and \
        _outputs_present(out, manifest, manifest.get("files", {}))
    if corpus_done:
        result.cached, result.up_to_date, result.corpus_steps = len(keys), True, False
        _write_manifest(out, manifest | {"input_signature": signature})
        result.files = [out / f for f in manifest["files"]]
        result.timings["total"] = time.perf_counter() - started
        return result

    vocabulary: dict[str, int] = {}
    mergers = {unit: CountMerger(unit, vocabulary) for unit in DFM_UNITS}
    sink = _ParquetSink(out)
    doc_schema = _documents_schema(meta)
    del documents
    worker_cache = cache if cache.enabled else None
    try:
        with Engine(n_jobs, scheduler) as engine:
            if engine.kind != "dask":
                stages.cache = worker_cache  # workers store their results as they go
                # forked pool workers find it here rather than rebuilding it per batch
                _STAGES_IN_PROCESS[stages.memo_key()] = stages
            bar = progress(None, total=len(doc_ids), desc="documents", quiet=quiet) \
                if not quiet else None
            pending: deque[tuple[list[int], list[DocumentResult | None], Any]] = deque()

            def drain(entry: tuple[list[int], list[DocumentResult | None], Any]) -> None:
                index, slots, future = entry
                computed = iter(future.result() if future is not None else ())
                results = [slot if slot is not None else next(computed) for slot in slots]
                for i, r in zip(index, results, strict=True):
                    if not r.cached:
                        result.computed += 1
                        if engine.kind == "dask" and cache.enabled:
                            cache.put("pipeline", keys[i], r.pack())
                    else:
                        result.cached += 1
                for name in DOCUMENT_TABLES[1:]:
                    sink.write(name, pa.concat_tables([r.tables[name] for r in results]))
                sink.write("documents", _documents_table(meta.iloc[index], results, doc_schema))
                ids = term_ids(vocabulary, [r.counts["terms"] for r in results])
                for r, doc_ids_ in zip(results, ids, strict=True):
                    for unit, merger in mergers.items():
                        merger.add(r.doc_id, r.counts[unit], doc_ids_)
                if bar is not None:
                    bar.update(len(index))

            for index_batch in _batches((str(i), raws[i]) for i in range(len(raws))):
                index = [int(i) for i, _ in index_batch]
                slots: list[DocumentResult | None] = []
                todo = []
                for i in index:
                    found, value = cache.get("pipeline", keys[i]) if cache.enabled \
                        else (False, None)
                    if found and isinstance(value, tuple) and value[0] == PIPELINE_VERSION:
                        slots.append(DocumentResult.unpack(value))
                    else:
                        slots.append(None)
                        todo.append((doc_ids[i], raws[i]))
                    raws[i] = None  # the text now lives in the batch only
                future = engine.submit(stages, todo) if todo else None
                pending.append((index, slots, future))
                while len(pending) >= engine.window:
                    drain(pending.popleft())
            while pending:
                drain(pending.popleft())
            if bar is not None:
                bar.close()
        _STAGES_IN_PROCESS.pop(stages.memo_key(), None)
        stages.cache = None
        result.timings["documents"] = time.perf_counter() - t_load
        files = sink.commit()
    except BaseException:
        sink.abort()
        raise
    t_docs = time.perf_counter()
    found, stored = cache.get("pipeline-corpus", corpus_key) if cache.enabled else (False, None)
    if found and isinstance(stored, dict):  # same documents, same settings: copy the results
        from textmine.cache import atomic_write_bytes

        for name in _CORPUS_FILES:
            if name not in stored:
                (out / name).unlink(missing_ok=True)
        for name, data in stored.items():
            atomic_write_bytes(out / name, data)
            files.append(out / name)
        result.corpus_steps = False
    else:
        produced = _corpus_steps(mergers, meta, out, topics=topics, ks=ks, method=topic_method,
                                 seeds=topic_seeds, minibatch=minibatch,
                                 random_state=config.random_state, quiet=quiet)
        files += produced
        if cache.enabled:
            cache.put("pipeline-corpus", corpus_key, {p.name: p.read_bytes() for p in produced})
    result.timings["corpus"] = time.perf_counter() - t_docs
    result.files = files
    _write_manifest(out, {
        "textmine_pipeline": PIPELINE_VERSION, "n_documents": len(doc_ids),
        "input_signature": signature, "settings": stages.fingerprint,
        "document_keys": keys, "corpus_key": corpus_key,
        "files": {p.name: p.stat().st_size for p in files}})
    result.timings["total"] = time.perf_counter() - started
    return result


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

    files: list[Path] = []
    doc_dfm = mergers["document"].to_dfm(documents=meta)
    files += save_dfm(doc_dfm, out, "dfm_document")
    files.append(_write_parquet(idf_table(doc_dfm), out / "idf.parquet"))
    del doc_dfm
    n_paragraphs = len(mergers["paragraph"].unit_doc)
    large = n_paragraphs >= 1000  # as textmine.topics.topic_dfm
    para = mergers["paragraph"].to_dfm(min_df=5 if large else 2, max_df=0.05 if large else 0.2,
                                       documents=meta)
    files += save_dfm(para, out, "dfm_paragraph")
    for name in ("topic_terms", "doc_topics", "topic_labels", "topic_selection"):
        (out / f"{name}.parquet").unlink(missing_ok=True)
    if topics:
        from textmine.topics import fit_topics

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
