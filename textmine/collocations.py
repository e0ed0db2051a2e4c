"""Collocations (adjacent bigrams and trigrams) and the term co-occurrence graph.

`collocations(tokens)` counts sequences of 2 or 3 tokens that are adjacent in the tokens table
(consecutive token_id in the same sentence) and scores them:

* `pmi`: pointwise mutual information in bits, log2(n·N^(m−1) / Π n(wᵢ)), with N the number of
  word tokens (punctuation left out) and m the length;
* `g2`: the log-likelihood ratio of the 2×2 table "first m−1 tokens" × "last token" over all
  adjacent m-grams (Dunning 1993); large when the sequence occurs more often than its parts
  predict. Positive for attraction, negative for repulsion (signed like keyness).

A sequence is counted only when none of its tokens is punctuation and, with
`drop_stopwords=True`, none is a stopword — but adjacency is always that of the original text,
so removed tokens never bring two words together.

`cooccurrence_graph(tokens_or_dfm)` links the features that occur in the same sentence (or within
`window` kept tokens of each other), edge weight = number of sentences in which they do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from textmine.dfm import DEFAULT_POS_DROP, DocumentFeatureMatrix, filter_tokens

COLLOCATION_COLUMNS = ["collocation", "tokens", "length", "n", "pmi", "g2"]


def _is_word(tokens: pd.DataFrame) -> np.ndarray:
    """Tokens that are words: some Han character, letter or digit (not punctuation/space)."""
    return tokens["token"].astype(str).str.contains(r"[\w]", regex=True).to_numpy()


def _g2_2x2(a: np.ndarray, row: np.ndarray, col: np.ndarray, total: float) -> np.ndarray:
    """Signed G² of 2×2 tables with cell a, row total `row`, column total `col`, grand total."""
    b, c = row - a, col - a
    d = total - a - b - c
    observed = np.stack([a, b, c, d]).astype(float)
    expected = np.stack([row * col, row * (total - col), (total - row) * col,
                         (total - row) * (total - col)]) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    g2 = np.maximum(2.0 * cells.sum(axis=0), 0.0)
    return np.where(a >= expected[0], g2, -g2)


def collocations(tokens: pd.DataFrame, *, sizes: Sequence[int] = (2, 3), min_count: int = 3,
                 drop_stopwords: bool = True, stopwords: Iterable[str] = (),
                 sort_by: str = "g2") -> pd.DataFrame:
    """Adjacent bigrams and trigrams within sentences, ranked by `sort_by` ("g2" or "pmi").

    Columns: collocation (the tokens joined, as in the text), tokens (space-separated), length,
    n (occurrences), pmi, g2. Sequences seen fewer than `min_count` times are left out.
    """
    if sort_by not in ("g2", "pmi", "n"):
        raise ValueError(f"sort_by must be 'g2', 'pmi' or 'n', not {sort_by!r}")
    if any(m not in (2, 3) for m in sizes):
        raise ValueError(f"sizes must be 2 and/or 3, not {tuple(sizes)}")
    ordered = tokens.sort_values(["doc_id", "sent_id", "token_id"], kind="mergesort")
    words = _is_word(ordered)
    usable = words.copy()
    if drop_stopwords and "is_stop" in ordered.columns:
        usable &= ~ordered["is_stop"].fillna(False).astype(bool).to_numpy()
    stop = set(stopwords)
    text = ordered["token"].astype(str).to_numpy()
    if stop:
        usable &= ~np.isin(text, list(stop))
    sentence = pd.factorize(ordered["doc_id"].astype(str) + "\x00"
                            + ordered["sent_id"].astype(str))[0]
    token_id = ordered["token_id"].to_numpy()
    unigram = Counter(text[words])
    n_words = int(words.sum())
    frames = []
    for m in sizes:
        if len(text) < m:
            continue
        ok = np.ones(len(text) - m + 1, dtype=bool)
        for i in range(m):
            stop_i = len(text) - m + 1 + i
            ok &= usable[i:stop_i]
            if i:
                ok &= sentence[i:stop_i] == sentence[:len(ok)]
                ok &= token_id[i:stop_i] == token_id[:len(ok)] + i
        starts = np.flatnonzero(ok)
        grams = Counter(tuple(text[s:s + m]) for s in starts)
        kept = sorted(g for g, n in grams.items() if n >= min_count)
        if not kept:
            continue
        n = np.array([grams[g] for g in kept], dtype=float)
        parts = np.array([[unigram[w] for w in g] for g in kept], dtype=float)
        pmi = np.log2(n * n_words ** (m - 1) / parts.prod(axis=1))
        prefix = Counter(tuple(text[s:s + m - 1]) for s in starts)
        last = Counter(text[s + m - 1] for s in starts)
        total = float(len(starts))
        g2 = _g2_2x2(n, np.array([prefix[g[:-1]] for g in kept], dtype=float),
                     np.array([last[g[-1]] for g in kept], dtype=float), total)
        frames.append(pd.DataFrame({
            "collocation": ["".join(g) for g in kept],
            "tokens": [" ".join(g) for g in kept],
            "length": m, "n": n.astype(np.int64), "pmi": pmi, "g2": g2,
        }))
    if not frames:
        return pd.DataFrame(columns=COLLOCATION_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return (table.sort_values([sort_by, "tokens"], ascending=[False, True], kind="mergesort")
            .reset_index(drop=True))


def cooccurrence_graph(tokens: pd.DataFrame | DocumentFeatureMatrix, *,
                       window: str | int = "sentence", min_count: int = 2,
                       min_term_count: int = 1, pos_keep: Sequence[str] | None = None,
                       pos_drop: Sequence[str] | None = DEFAULT_POS_DROP) -> nx.Graph:
    """Weighted graph of terms that co-occur within a sentence (or within `window` tokens).

    Input: a tokens table (filtered like build_dfm: POS, stopwords, ≥ 2 characters) or a
    DocumentFeatureMatrix (its kept tokens). Nodes carry `n` (count); edges carry `weight`, the
    number of sentences in which both terms occur (within `window` kept tokens of each other
    when window is an int); edges with weight below
    `min_count` are dropped, and nodes left without edges too.
    """
    if isinstance(tokens, DocumentFeatureMatrix):
        if tokens.tokens is None:
            raise ValueError("this matrix has no tokens (grouped); use build_dfm's result")
        kept = tokens.tokens
    else:
        kept = filter_tokens(tokens, pos_keep=pos_keep, pos_drop=pos_drop)
    order = [c for c in ("doc_id", "sent_id", "token_id") if c in kept.columns]
    kept = kept.sort_values(order, kind="mergesort")
    terms = kept["token"].astype(str)
    term_counts = Counter(terms)
    kept = kept[terms.map(term_counts).to_numpy() >= min_term_count]
    terms = kept["token"].astype(str)
    sentence_ids = pd.factorize(kept["doc_id"].astype(str) + "\x00"
                                + kept["sent_id"].astype(str))[0]
    vocab, cols = np.unique(terms.to_numpy(), return_inverse=True)
    edges: dict[tuple[str, str], int] = {}
    if window == "sentence":
        presence = sp.csr_matrix((np.ones(len(cols)), (sentence_ids, cols)),
                                 shape=(sentence_ids.max() + 1 if len(cols) else 0, len(vocab)))
        presence.data[:] = 1.0
        presence.sum_duplicates()
        presence.data = np.minimum(presence.data, 1.0)
        shared = sp.triu((presence.T @ presence).tocoo(), k=1).tocoo()
        strong = shared.data >= min_count
        for i, j, w in zip(shared.row[strong], shared.col[strong], shared.data[strong],
                           strict=True):
            edges[(str(vocab[i]), str(vocab[j]))] = int(w)
    else:
        size = int(window)
        if size < 2:
            raise ValueError(f"window must be 'sentence' or an int ≥ 2, not {window!r}")
        counter: Counter[tuple[str, str]] = Counter()
        for _, seq in terms.groupby(sentence_ids, sort=False):
            seq = list(seq)
            pairs: set[tuple[str, str]] = set()
            for i, left in enumerate(seq):
                for right in seq[i + 1:i + size]:
                    if left != right:
                        pairs.add((left, right) if left < right else (right, left))
            counter.update(pairs)
        edges = dict(counter)
    graph = nx.Graph()
    for (u, v), w in sorted(edges.items()):
        if w >= min_count:
            graph.add_edge(u, v, weight=w)
    nx.set_node_attributes(graph, {t: term_counts[t] for t in graph.nodes}, "n")
    return graph
