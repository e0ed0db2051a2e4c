"""Keywords per document or per group: TF-IDF and TextRank over the document-feature matrix.

TF-IDF: score = (n / tokens in the group) × idf. The IDF is fitted on the matrix's own units
(documents, paragraphs or sentences), smoothed: ln((1 + N) / (1 + df)), so that a term found in
every unit (发展 in every report) scores 0 rather than topping every list.
A corpus of fewer than `MIN_UNITS_FOR_IDF` units cannot estimate document frequencies, so then
(or with idf="jieba") jieba's general-language IDF table (jieba/analyse/idf.txt) is used, with
its median for words it does not list — exactly jieba's own fallback.

TextRank: for each group, an undirected graph over the kept tokens (the matrix's `tokens`), with
an edge between two terms each time they occur within `window` tokens of each other in the same
sentence; the score is the weighted PageRank (damping 0.85), as in jieba's TextRank but over our
tokens and filters.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from textmine.dfm import DocumentFeatureMatrix, group_labels

KEYWORD_COLUMNS = ["group", "term", "score", "rank", "n"]
#: Below this many units the corpus IDF is not trusted and jieba's general IDF is used.
MIN_UNITS_FOR_IDF = 10


@functools.lru_cache(maxsize=1)
def jieba_idf() -> tuple[dict[str, float], float]:
    """jieba's bundled IDF table (word → idf) and its median, read once."""
    import jieba.analyse

    path = Path(jieba.analyse.__file__).with_name("idf.txt")
    table: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.strip().partition(" ")
        if word and value:
            table[word] = float(value)
    return table, float(np.median(list(table.values())))


def corpus_idf(dfm: DocumentFeatureMatrix) -> np.ndarray:
    """Smoothed IDF of each feature over the matrix's units: ln((1+N)/(1+df))."""
    n_units = dfm.counts.shape[0]
    doc_freq = np.diff(dfm.counts.tocsc().indptr)
    return np.log((1.0 + n_units) / (1.0 + doc_freq))


def _idf_for(dfm: DocumentFeatureMatrix, idf: str) -> np.ndarray:
    if idf not in ("auto", "corpus", "jieba"):
        raise ValueError(f"idf must be 'auto', 'corpus' or 'jieba', not {idf!r}")
    if idf == "corpus" or (idf == "auto" and len(dfm) >= MIN_UNITS_FOR_IDF):
        return corpus_idf(dfm)
    table, median = jieba_idf()
    return np.array([table.get(f, median) for f in dfm.features])


def _groups(dfm: DocumentFeatureMatrix, by: str | None) -> tuple[np.ndarray, list[str]]:
    """Group number of each unit and the sorted group labels (by=None: one group per unit)."""
    if by is None:
        labels = dfm.units["unit"].astype(str)
        ids, uniques = pd.factorize(labels, sort=False)
        return ids, [str(u) for u in uniques]
    if by not in dfm.units.columns:
        raise KeyError(f"no column {by!r} to group by; the units have {list(dfm.units.columns)}")
    ids, uniques = pd.factorize(group_labels(dfm.units[by]), sort=True)
    return ids, [str(u) for u in uniques]


def _top(group: str, terms: np.ndarray, scores: np.ndarray, counts: np.ndarray,
         top_n: int | None) -> pd.DataFrame:
    present = counts > 0
    frame = pd.DataFrame({"group": group, "term": terms[present], "score": scores[present],
                          "n": counts[present].astype(np.int64)})
    frame = frame.sort_values(["score", "term"], ascending=[False, True], kind="mergesort")
    if top_n is not None:
        frame = frame.head(top_n)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame[KEYWORD_COLUMNS]


def tfidf_keywords(dfm: DocumentFeatureMatrix, *, by: str | None = None, top_n: int | None = 20,
                   idf: str = "auto") -> pd.DataFrame:
    """TF-IDF keywords of each unit (by=None) or each group of units (a `units` column)."""
    weights = _idf_for(dfm, idf)
    ids, labels = _groups(dfm, by)
    frames = []
    csr = dfm.counts.tocsr()
    for g, label in enumerate(labels):
        counts = np.asarray(csr[ids == g].sum(axis=0)).ravel()
        total = counts.sum()
        if total == 0:
            continue
        frames.append(_top(label, dfm.features, counts / total * weights, counts, top_n))
    return _concat(frames)


def textrank_scores(sentences: list[list[str]], window: int = 5) -> dict[str, float]:
    """Weighted PageRank of terms co-occurring within `window` tokens in the same sentence."""
    edges: Counter[tuple[str, str]] = Counter()
    nodes: set[str] = set()
    for sentence in sentences:
        nodes.update(sentence)
        for i, left in enumerate(sentence):
            for right in sentence[i + 1:i + window]:
                if left != right:
                    edges[(left, right) if left < right else (right, left)] += 1
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_weighted_edges_from((u, v, w) for (u, v), w in sorted(edges.items()))
    if graph.number_of_edges() == 0:
        return {node: 1.0 / max(len(nodes), 1) for node in nodes}
    return nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-10, max_iter=500)


def textrank_keywords(dfm: DocumentFeatureMatrix, *, by: str | None = None,
                      top_n: int | None = 20, window: int = 5) -> pd.DataFrame:
    """TextRank keywords of each unit or group, over the matrix's kept tokens in text order."""
    if dfm.tokens is None:
        raise ValueError("TextRank needs the token sequence: use a matrix from build_dfm, "
                         "not a grouped one")
    ids, labels = _groups(dfm, by)
    unit_group = dict(zip(dfm.units["unit"], ids, strict=True))
    tokens = dfm.tokens
    group_of_token = tokens["unit"].map(unit_group).to_numpy()
    sentence_key = tokens["doc_id"].astype(str) + "\x00" + tokens["sent_id"].astype(str)
    feature_pos = dfm.feature_index()
    csr = dfm.counts.tocsr()
    frames = []
    for g, label in enumerate(labels):
        rows = tokens[group_of_token == g]
        if rows.empty:
            continue
        sentences = [list(s) for _, s in rows.groupby(sentence_key[group_of_token == g],
                                                   sort=False)["token"]]
        scores = textrank_scores(sentences, window=window)
        counts = np.asarray(csr[ids == g].sum(axis=0)).ravel()
        score_vec = np.zeros(len(dfm.features))
        for term, score in scores.items():
            score_vec[feature_pos[term]] = score
        frames.append(_top(label, dfm.features, score_vec, counts, top_n))
    return _concat(frames)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=KEYWORD_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def keywords(dfm: DocumentFeatureMatrix, *, method: str = "tfidf", by: str | None = None,
             top_n: int | None = 20, idf: str = "auto", window: int = 5) -> pd.DataFrame:
    """Keywords per unit (by=None) or per group (`by` a units column such as "year").

    method "tfidf" (idf "auto" | "corpus" | "jieba", see the module docstring) or "textrank".
    Columns: group, term, score, rank (1 = best), n (count of the term in the group).
    Groups are in sorted order (units in matrix order with by=None); ties broken by term.
    """
    if method == "tfidf":
        return tfidf_keywords(dfm, by=by, top_n=top_n, idf=idf)
    if method == "textrank":
        return textrank_keywords(dfm, by=by, top_n=top_n, window=window)
    raise ValueError(f"method must be 'tfidf' or 'textrank', not {method!r}")
