"""Document-feature matrix: token counts per unit (document, paragraph or sentence).

`build_dfm(tokens)` is the one input of keywords, keyness, collocation graphs and topics. It
filters the tokens (part of speech, stopwords, length, document frequency), counts them per unit
into a sparse CSR matrix, and keeps the unit metadata so that any metadata column (year,
province, source) can group the rows. Features are sorted (Unicode order), so the same tokens
always give the same matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

UNITS = ("document", "paragraph", "sentence")
TOKEN_COLUMNS = ("doc_id", "sent_id", "token_id", "token", "pos", "is_stop")

#: Part-of-speech prefixes dropped by default: symbols (w), numerals and
#: quantities (m, mq), measure words (q), pronouns (r), adverbs (d), prepositions (p),
#: conjunctions (c), particles (u), modal/interjection/onomatopoeia (y, e, o), place/direction
#: words (f) and time words (t, which includes dates). Content words (nouns, verbs, adjectives,
#: formulations "nz", names) stay.
DEFAULT_POS_DROP = ("w", "m", "q", "r", "d", "p", "c", "u", "y", "e", "o", "f", "t")

# A feature must contain at least one Han character or Latin letter (drops numbers, symbols).
_WORDLIKE = re.compile(r"[\u3400-\u9fffA-Za-z]")
# Metadata columns never copied onto units (they are texts, not groups).
#: Document columns never copied onto matrix units: the texts and file details, not metadata.
TEXT_COLUMNS = {"text", "raw_text", "path", "n_chars", "encoding", "original_text"}


@dataclass
class DocumentFeatureMatrix:
    """Sparse counts (units × features), the feature names and one metadata row per unit.

    `units` has `unit` (the row id), `doc_id`, `n_tokens` and, for paragraph or sentence units,
    `block_id` / `sent_id`, plus any document metadata columns. `tokens` keeps the kept tokens in
    text order with their `unit` (used by TextRank, co-occurrence graphs and coherence); it is
    None for a grouped matrix.
    """

    counts: sp.csr_matrix
    features: np.ndarray
    units: pd.DataFrame
    unit: str = "document"
    tokens: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.counts.shape != (len(self.units), len(self.features)):
            raise ValueError(f"counts shape {self.counts.shape} does not match "
                             f"{len(self.units)} units × {len(self.features)} features")

    @property
    def shape(self) -> tuple[int, int]:
        return self.counts.shape

    def __len__(self) -> int:
        return self.counts.shape[0]

    def feature_index(self) -> dict[str, int]:
        """Feature name → column number."""
        return {f: i for i, f in enumerate(self.features)}

    def term_counts(self) -> pd.Series:
        """Total count of each feature over all units, indexed by feature."""
        return pd.Series(np.asarray(self.counts.sum(axis=0)).ravel(), index=self.features,
                         name="n")

    def group(self, by: str | Sequence[str]) -> DocumentFeatureMatrix:
        """Sum the rows by one or more `units` columns (e.g. "year", "doc_id").

        The new units are the groups in sorted order; `unit` is the group value as a string
        (values joined with "|" for several columns) and `n_units` counts the rows summed.
        """
        columns = [by] if isinstance(by, str) else list(by)
        missing = [c for c in columns if c not in self.units.columns]
        if missing:
            raise KeyError(f"cannot group by {missing}: the units have columns "
                           f"{list(self.units.columns)}")
        keys = pd.DataFrame({c: group_labels(self.units[c]) for c in columns})
        labels = keys.agg("|".join, axis=1) if len(columns) > 1 else keys[columns[0]]
        group_ids, uniques = pd.factorize(labels, sort=True)
        n_groups = len(uniques)
        indicator = sp.csr_matrix(
            (np.ones(len(group_ids), dtype=np.int64), (group_ids, np.arange(len(group_ids)))),
            shape=(n_groups, len(group_ids)))
        counts = (indicator @ self.counts).tocsr()
        first = pd.Series(np.arange(len(group_ids))).groupby(group_ids).first()
        units = self.units.iloc[first.to_numpy()][columns].reset_index(drop=True)
        units.insert(0, "unit", list(uniques))
        units["n_units"] = np.bincount(group_ids, minlength=n_groups)
        units["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel()
        return DocumentFeatureMatrix(counts, self.features.copy(), units, unit="group")

    def subset(self, mask: np.ndarray | pd.Series | Sequence[bool]) -> DocumentFeatureMatrix:
        """The units selected by a boolean mask (features unchanged)."""
        mask = np.asarray(mask, dtype=bool)
        units = self.units[mask].reset_index(drop=True)
        tokens = None
        if self.tokens is not None:
            tokens = self.tokens[self.tokens["unit"].isin(set(units["unit"]))]
        return DocumentFeatureMatrix(self.counts[mask], self.features.copy(), units, self.unit,
                                     tokens)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table of non-zero counts: unit, term, n (units in row order, terms sorted)."""
        coo = self.counts.tocoo()
        order = np.lexsort((coo.col, coo.row))
        return pd.DataFrame({
            "unit": self.units["unit"].to_numpy()[coo.row[order]],
            "term": self.features[coo.col[order]],
            "n": coo.data[order].astype(np.int64),
        })


def group_labels(values: pd.Series) -> pd.Series:
    """Metadata values as group labels (strings); whole floats print as ints (2021.0 → "2021")."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == whole.round()).all():
            return values.map(lambda v: "" if pd.isna(v) else str(int(v)))
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v))
                      else str(v))


def _pos_matches(pos: pd.Series, prefixes: Iterable[str]) -> np.ndarray:
    prefixes = tuple(prefixes)
    if not prefixes:
        return np.zeros(len(pos), dtype=bool)
    return pos.astype(str).str.startswith(prefixes).to_numpy()


def filter_tokens(tokens: pd.DataFrame, *, pos_keep: Sequence[str] | None = None,
                  pos_drop: Sequence[str] | None = DEFAULT_POS_DROP,
                  drop_stopwords: bool = True, stopwords: Iterable[str] = (),
                  min_chars: int = 2) -> pd.DataFrame:
    """The tokens that can be features: POS (prefix match), stopwords, length, word-like.

    `pos_keep` (if given) keeps only tags starting with one of its prefixes ("n" keeps n, nr,
    nz…); `pos_drop` then removes tags starting with its prefixes. Spans protected by the
    tokenizer keep their tags: quantities "mq" and dates "t" are dropped by default,
    formulations "nz" kept.
    """
    missing = [c for c in ("doc_id", "sent_id", "token") if c not in tokens.columns]
    if missing:
        raise ValueError(f"tokens table lacks column(s) {missing}; expected the columns of "
                         f"textmine.segment.tokenize: {', '.join(TOKEN_COLUMNS)}")
    keep = np.ones(len(tokens), dtype=bool)
    if "pos" in tokens.columns:
        if pos_keep:
            keep &= _pos_matches(tokens["pos"], pos_keep)
        if pos_drop:
            keep &= ~_pos_matches(tokens["pos"], pos_drop)
    if drop_stopwords and "is_stop" in tokens.columns:
        keep &= ~tokens["is_stop"].fillna(False).astype(bool).to_numpy()
    text = tokens["token"].astype(str)
    stop = set(stopwords)
    if stop:
        keep &= ~text.isin(stop).to_numpy()
    keep &= (text.str.len() >= min_chars).to_numpy()
    keep &= text.str.contains(_WORDLIKE).to_numpy()
    return tokens[keep]


def _unit_ids(tokens: pd.DataFrame, unit: str, sentences: pd.DataFrame | None) -> pd.DataFrame:
    """Add `unit` (and block_id for paragraphs) to a tokens table."""
    out = tokens.copy()
    doc = out["doc_id"].astype(str)
    if unit == "document":
        out["unit"] = doc
    elif unit == "sentence":
        out["unit"] = doc + "#s" + out["sent_id"].astype(str)
    elif unit == "paragraph":
        if "block_id" not in out.columns:
            if sentences is None or "block_id" not in sentences.columns:
                raise ValueError("unit='paragraph' needs the paragraph of each sentence: pass "
                                 "sentences= (CleanCorpus.sentences) or tokens with block_id")
            blocks = sentences[["doc_id", "sent_id", "block_id"]].astype({"doc_id": str})
            out = out.astype({"doc_id": str}).merge(blocks, on=["doc_id", "sent_id"],
                                                     how="left", validate="many_to_one")
            if out["block_id"].isna().any():
                raise ValueError("some tokens have a sent_id that is not in sentences=")
        out["unit"] = doc.to_numpy() + "#p" + out["block_id"].astype(int).astype(str).to_numpy()
    else:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    return out


def filter_features(counts: sp.csr_matrix, features: np.ndarray, *, min_df: int | float,
                    max_df: int | float, min_count: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Keep the columns whose total count and document frequency lie within the bounds."""
    n_units = counts.shape[0]
    doc_freq = np.diff(counts.tocsc().indptr)
    total = np.asarray(counts.sum(axis=0)).ravel()
    keep = total >= min_count
    low, high = df_bound(min_df, n_units, "min_df"), df_bound(max_df, n_units, "max_df")
    if low is not None:
        keep &= doc_freq >= low
    if high is not None:
        keep &= doc_freq <= high
    return counts[:, np.flatnonzero(keep)].tocsr(), features[keep]


def df_bound(value: float | int | None, n_units: int, name: str) -> float | None:
    """A min_df/max_df setting as a unit count: a float is a proportion, an int a count."""
    if value is None:
        return None
    if isinstance(value, float):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} as a proportion must be within [0, 1], not {value}")
        return value * n_units
    return float(value)


def build_dfm(tokens: pd.DataFrame, *, unit: str = "document",
              pos_keep: Sequence[str] | None = None,
              pos_drop: Sequence[str] | None = DEFAULT_POS_DROP,
              drop_stopwords: bool = True, stopwords: Iterable[str] = (),
              min_chars: int = 2, min_df: int | float = 1, max_df: int | float = 1.0,
              min_count: int = 1, documents: pd.DataFrame | None = None,
              sentences: pd.DataFrame | None = None) -> DocumentFeatureMatrix:
    """Count filtered tokens per unit into a `DocumentFeatureMatrix`.

    unit: "document", "paragraph" (needs `sentences` with block_id, or tokens with block_id) or
    "sentence". min_df/max_df: an int is a number of units, a float in [0, 1] a proportion (as
    in scikit-learn); min_count is the minimum total count. `documents` (e.g.
    CleanCorpus.documents with metadata such as year) adds its columns to `units` by doc_id.
    Units are in the order of first appearance in `tokens`; units left with no feature stay.
    """
    if len(tokens) == 0:
        raise ValueError("build_dfm: the tokens table is empty")
    all_units = _unit_ids(tokens, unit, sentences)
    unit_order = pd.unique(all_units["unit"])
    kept = filter_tokens(all_units, pos_keep=pos_keep, pos_drop=pos_drop,
                         drop_stopwords=drop_stopwords, stopwords=stopwords, min_chars=min_chars)
    terms = kept["token"].astype(str).to_numpy()
    features, col = np.unique(terms, return_inverse=True)
    row = pd.Index(unit_order).get_indexer(kept["unit"])
    counts = sp.csr_matrix((np.ones(len(col), dtype=np.int64), (row, col)),
                           shape=(len(unit_order), len(features)))
    counts.sum_duplicates()

    counts, features = filter_features(counts, features, min_df=min_df, max_df=max_df,
                                       min_count=min_count)
    if len(features) == 0:
        raise ValueError("build_dfm: no feature is left after filtering (check pos_keep, "
                         "min_df and max_df)")

    first = all_units.drop_duplicates("unit").set_index("unit").loc[unit_order]
    units = pd.DataFrame({"unit": unit_order, "doc_id": first["doc_id"].astype(str).to_numpy()})
    if unit == "paragraph":
        units["block_id"] = first["block_id"].astype(int).to_numpy()
    elif unit == "sentence":
        units["sent_id"] = first["sent_id"].to_numpy()
    units["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel()
    if documents is not None:
        meta_cols = [c for c in documents.columns
                     if c not in TEXT_COLUMNS and c not in units.columns]
        meta = documents[["doc_id", *meta_cols]].astype({"doc_id": str})
        units = units.merge(meta.drop_duplicates("doc_id"), on="doc_id", how="left")

    feature_pos = {f: i for i, f in enumerate(features)}
    kept = kept[kept["token"].astype(str).isin(feature_pos)]
    token_cols = [c for c in ("unit", "doc_id", "sent_id", "token_id", "token", "pos", "start",
                              "end") if c in kept.columns]
    return DocumentFeatureMatrix(counts, features.astype(object), units, unit,
                                 kept[token_cols].reset_index(drop=True))
