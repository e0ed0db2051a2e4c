"""Emergence: the terms and formulations that a group (a year, by default) uses first.

For every term the table gives the first group in which the corpus has it, how often it occurs
there, in how many groups it occurs and how often in all. A term "emerges" in its first group
when it recurs afterwards (`min_groups`, default 2); terms already in the earliest group are
left out by default, since the corpus cannot tell when they began.

Columns: term, kind (``term`` | ``formulation``), first_group, n_first, n_groups, total.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

EMERGENCE_COLUMNS = ["term", "kind", "first_group", "n_first", "n_groups", "total"]

#: POS tags of tokens that are not terms: punctuation, numbers, figures, dates, particles.
NON_TERM_POS = frozenset({"x", "w", "m", "mq", "q", "t", "u", "uj", "ul", "uv", "uz", "ud",
                          "ug", "p", "c", "r", "d", "e", "y", "o", "eng"})
_HAN = re.compile(r"[\u3400-\u9fff]")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def _term_tokens(tokens: pd.DataFrame, max_ngram: int) -> pd.DataFrame:
    """(doc_id, term) rows from a tokens table: content words, and n-grams of them if asked."""
    keep = pd.Series(True, index=tokens.index)
    if "is_stop" in tokens:
        keep &= ~tokens["is_stop"].astype(bool)
    if "pos" in tokens:
        keep &= ~tokens["pos"].isin(NON_TERM_POS)
    words = tokens["token"].astype(str)
    keep &= (words.str.len() >= 2) & words.str.contains(_HAN)
    frames = [pd.DataFrame({"doc_id": tokens.loc[keep, "doc_id"], "term": words[keep]})]
    if max_ngram > 1:
        # Contiguous content words inside one sentence (新+常态 → 新常态).
        sent = tokens["sent_id"] if "sent_id" in tokens else pd.Series(0, index=tokens.index)
        content = (~tokens["is_stop"].astype(bool) if "is_stop" in tokens else True) & \
            words.str.contains(_HAN) & ~tokens.get("pos", pd.Series("", index=tokens.index)
                                                   ).isin({"x", "w", "m", "mq"})
        for n in range(2, max_ngram + 1):
            parts, ok = [words], content.copy()
            for k in range(1, n):
                parts.append(words.shift(-k))
                ok &= content.shift(-k, fill_value=False).astype(bool)
                ok &= tokens["doc_id"].shift(-k).eq(tokens["doc_id"]) & sent.shift(-k).eq(sent)
            gram = parts[0].str.cat(parts[1:], sep="")
            frames.append(pd.DataFrame({"doc_id": tokens.loc[ok, "doc_id"], "term": gram[ok]}))
    out = pd.concat(frames, ignore_index=True)
    out["kind"] = "term"
    return out


def _occurrences(table: pd.DataFrame, max_ngram: int) -> pd.DataFrame:
    """(doc_id, term, kind) rows from a tokens, formulations or terms table."""
    if "doc_id" not in table:
        raise ValueError("emergence: the table needs a doc_id column")
    if "token" in table:
        return _term_tokens(table, max_ngram)
    if "surface" in table and "kind" in table:
        rows = table[table["kind"] != "quote"]
        return pd.DataFrame({"doc_id": rows["doc_id"], "term": rows["surface"].astype(str),
                             "kind": "formulation"})
    if "term" in table:
        kind = table["kind"] if "kind" in table else "term"
        return pd.DataFrame({"doc_id": table["doc_id"], "term": table["term"].astype(str),
                             "kind": kind})
    raise ValueError("emergence: expected a tokens table (token), a formulations table "
                     f"(surface, kind) or a terms table (term); got columns {list(table.columns)}")


def _group_of(doc_ids: pd.Series, groups: Any, by: str, documents: pd.DataFrame | None
              ) -> pd.Series:
    """The group of each document: from `groups`, the documents table or a year in doc_id."""
    if isinstance(groups, Mapping):
        return doc_ids.map(groups)
    if isinstance(groups, pd.Series):
        return doc_ids.map(groups)
    if isinstance(groups, pd.DataFrame):
        documents = groups
    if documents is not None and by in documents and "doc_id" in documents:
        return doc_ids.map(dict(zip(documents["doc_id"], documents[by], strict=True)))
    if by == "year":
        found = doc_ids.astype(str).str.extract(_YEAR, expand=False)
        return pd.to_numeric(found, errors="coerce").astype("Int64")
    raise ValueError(f"emergence: no {by!r} column for the documents; pass groups= (a mapping "
                     "doc_id → group or a documents table with that column)")


def _sort_key(values: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().all() else values.astype(str)


def emergence(tokens_or_table: Any, groups: Any = None, by: str = "year", *,
              min_groups: int = 2, min_total: int = 2, include_first_group: bool = False,
              max_ngram: int = 1, kinds: Sequence[str] = ("term", "formulation"),
              vocabulary: Sequence[str] | None = None) -> pd.DataFrame:
    """Terms and formulations by the group in which they first appear, if they recur.

    `tokens_or_table`: a tokens table (textmine.segment.tokenize), a formulations table
    (textmine.formulations.extract_formulations), a terms table (doc_id, term[, kind]), a list of
    these, or a text / Corpus / CleanCorpus (tokenized and searched for formulations here).
    `groups`: a mapping doc_id → group, or a documents table with the `by` column; by default
    the corpus's documents, else a year in the doc_id (2016.txt → 2016). A term seen both as a
    token and as a formulation is kind ``formulation``, counted from whichever source sees it
    more often. `vocabulary`: phrases to date whatever the segmentation (counted as substrings
    of the cleaned text; needs a text or corpus). `max_ngram` > 1 also dates runs of content
    words within a sentence (新 + 常态 → 新常态).
    """
    from textmine.clean import CleanCorpus
    from textmine.corpus import Corpus

    documents = None
    if isinstance(tokens_or_table, str | Corpus | CleanCorpus):
        from textmine.clean import as_clean_corpus
        from textmine.formulations import extract_formulations
        from textmine.segment import tokenize

        clean = as_clean_corpus(tokens_or_table)
        documents = clean.documents
        tables = [tokenize(clean), extract_formulations(clean)]
    elif isinstance(tokens_or_table, pd.DataFrame):
        tables = [tokens_or_table]
    else:
        tables = list(tokens_or_table)
    frames = []
    for i, t in enumerate(tables):
        frame = _occurrences(t, max_ngram)
        frame["source"] = i
        frames.append(frame)
    if vocabulary:
        if documents is None:
            raise ValueError("emergence: vocabulary= needs a text or corpus, not tables")
        rows = [(doc_id, phrase)
                for doc_id, text in zip(documents["doc_id"], documents["text"], strict=True)
                for phrase in dict.fromkeys(vocabulary) for _ in range(text.count(phrase))]
        frame = pd.DataFrame(rows, columns=["doc_id", "term"])
        frame["kind"], frame["source"] = "term", len(tables)
        frames.append(frame)
    occ = pd.concat(frames, ignore_index=True)
    if occ.empty:
        return pd.DataFrame(columns=EMERGENCE_COLUMNS)
    occ["group"] = _group_of(occ["doc_id"], groups, by, documents)
    occ = occ[occ["group"].notna()]
    if occ.empty:
        raise ValueError(f"emergence: no document has a {by!r} group")

    counts = occ.groupby(["term", "source", "group"], sort=False).size().rename("n")
    counts = counts.reset_index()
    # A term seen by several sources (tokens, formulations, vocabulary) is counted from the one
    # that sees it most often; it is a formulation if the formulations table has it.
    by_source = counts.groupby(["term", "source"], sort=False)["n"].sum().rename("source_total")
    counts = counts.join(by_source, on=["term", "source"])
    best = counts.sort_values(["term", "source_total", "source"], ascending=[True, False, True],
                              kind="stable").drop_duplicates("term")[["term", "source"]]
    counts = counts.merge(best, on=["term", "source"])
    formulations = set(occ.loc[occ["kind"] == "formulation", "term"])
    counts["kind"] = counts["term"].map(lambda t: "formulation" if t in formulations else "term")

    counts["order"] = _sort_key(counts["group"])
    counts = counts.sort_values(["term", "order"], kind="stable")
    first = counts.drop_duplicates("term")
    stats = counts.groupby("term", sort=False).agg(n_groups=("group", "nunique"),
                                                  total=("n", "sum"))
    table = first.set_index("term")[["kind", "group", "n", "order"]].join(stats).reset_index()
    table = table.rename(columns={"group": "first_group", "n": "n_first"})
    earliest = counts["order"].min()
    keep = (table["n_groups"] >= min_groups) & (table["total"] >= min_total)
    keep &= table["kind"].isin(kinds)
    if not include_first_group:
        keep &= table["order"] != earliest
    table = table[keep].sort_values(["order", "n_groups", "total", "term"],
                                    ascending=[True, False, False, True], kind="stable")
    table = table[EMERGENCE_COLUMNS].reset_index(drop=True)
    for col in ("n_first", "n_groups", "total"):
        table[col] = table[col].astype("int64")
    return table
