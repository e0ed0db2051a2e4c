"""Topic models (NMF and LDA) with the number of topics chosen by coherence and stability.

`fit_topics(dfm, k=range(3, 13))` fits one model per k and scores each:

* coherence: mean NPMI of each topic's top 10 terms, over windows of the corpus itself
  (by default the matrix's paragraph or sentence units, or sliding windows of 20 kept tokens
  when the units are whole documents). Pairs that never co-occur count as −1.
* stability: for each seed, the model is refitted on a random 80 % of the units; its topics are
  matched one-to-one to the full model's (Hungarian matching on the Jaccard overlap of top-10
  terms) and the mean matched overlap is averaged over seeds (Greene, O'Callaghan & Cunningham
  2014). 1 means every topic comes back whatever the sample.

The chosen k has the best coherence among the k whose stability is at least
`stability_floor` × the best stability seen (ties: the smaller k); the full curve is returned in
`TopicModel.selection` for plotting. NMF is fitted on TF-IDF weights (sublinear tf, l2 rows) with
the deterministic NNDSVD start; LDA on counts. With the same input and random_state every table is
identical. For large corpora `minibatch=True` (or "auto": over 50,000 units) switches to
MiniBatchNMF / online LDA.

Each topic's terms are ranked by relevance (Sievert & Shirley 2014, λ = 0.6) rather than raw
weight, so that words frequent in every topic do not crowd the lists; `term_ranking="weight"`
restores the plain order. `topic_dfm(tokens, sentences=…)` builds the matrix with the settings
that suit topic models (paragraph units, nouns, no report-wide words).

A single report is analysed by paragraph: build the matrix with unit="paragraph".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from textmine.dfm import DocumentFeatureMatrix, build_dfm

#: Parts of speech that carry topics: nouns (n, nr, ns, nt, nz — formulations are nz), verbal
#: nouns (vn), abbreviations (j), set phrases (l, i).
TOPIC_POS = ("n", "vn", "nz", "nt", "ns", "nr", "j", "l", "i")
SELECTION_COLUMNS = ["k", "coherence", "stability", "chosen"]
MINIBATCH_UNITS = 50_000
TOP_TERMS = 10


def topic_dfm(tokens: pd.DataFrame, *, sentences: pd.DataFrame | None = None,
              documents: pd.DataFrame | None = None, unit: str = "paragraph",
              **options: Any) -> DocumentFeatureMatrix:
    """The matrix topic models work best on: paragraphs, topic-bearing POS, no common words.

    Defaults (any can be overridden): pos_keep=TOPIC_POS; with 1,000 units or more min_df=5 and
    max_df=0.05 (a word in more than 5 % of paragraphs — 发展, 建设, 经济 — is a report word, not
    a topic word), with fewer units (a single report) min_df=2 and max_df=0.2.
    """
    if unit == "paragraph" and sentences is not None:
        n_units = len(sentences[["doc_id", "block_id"]].drop_duplicates())
    elif unit == "sentence":
        n_units = len(tokens[["doc_id", "sent_id"]].drop_duplicates())
    else:
        n_units = tokens["doc_id"].nunique()
    large = n_units >= 1000
    settings: dict[str, Any] = {"pos_keep": TOPIC_POS, "min_df": 5 if large else 2,
                                "max_df": 0.05 if large else 0.2}
    settings.update(options)
    return build_dfm(tokens, unit=unit, sentences=sentences, documents=documents, **settings)


# ---------------------------------------------------------------- coherence

def window_presence(terms: Sequence[str], windows: Sequence[Any]) -> sp.csc_matrix:
    """Boolean windows × terms matrix: does window w contain term t?

    A window is either a text (presence = substring, independent of any tokenizer, so models
    built on different tokenizations are scored alike) or a collection of tokens.
    """
    rows, cols = [], []
    for w, window in enumerate(windows):
        if isinstance(window, str):
            hits = [j for j, term in enumerate(terms) if term in window]
        else:
            bag = window if isinstance(window, (set, frozenset)) else set(window)
            hits = [j for j, term in enumerate(terms) if term in bag]
        rows.extend([w] * len(hits))
        cols.extend(hits)
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csc_matrix((data, (rows, cols)), shape=(len(windows), len(terms)))


def npmi_coherence(topics: Sequence[Sequence[str]], windows: Sequence[Any] | None = None, *,
                   presence: tuple[sp.spmatrix, dict[str, int]] | None = None) -> np.ndarray:
    """Mean NPMI over all pairs of each topic's terms, over the given windows.

    NPMI(a, b) = ln(P(a,b) / P(a)P(b)) / −ln P(a,b), with probabilities the share of windows
    containing the term(s); a pair that never co-occurs scores −1. Give `windows` (texts or
    token collections) or a precomputed `presence` (windows × terms matrix, term → column).
    """
    if presence is None:
        if windows is None:
            raise ValueError("give windows or presence")
        vocab = sorted({t for topic in topics for t in topic})
        matrix, index = window_presence(vocab, windows), {t: i for i, t in enumerate(vocab)}
    else:
        matrix, index = presence
    matrix = sp.csc_matrix(matrix, dtype=np.float64)
    n_windows = matrix.shape[0]
    scores = []
    for topic in topics:
        cols = [index[t] for t in topic if t in index]
        if len(cols) < 2:
            scores.append(np.nan)
            continue
        sub = matrix[:, cols]
        joint = (sub.T @ sub).toarray() / n_windows
        marginal = np.diag(joint).copy()
        values = []
        for i in range(len(cols)):
            for j in range(i + 1, len(cols)):
                p_ab = joint[i, j]
                if p_ab <= 0 or marginal[i] <= 0 or marginal[j] <= 0:
                    values.append(-1.0)
                elif p_ab >= 1.0:
                    values.append(1.0)
                else:
                    values.append(np.log(p_ab / (marginal[i] * marginal[j])) / -np.log(p_ab))
        scores.append(float(np.mean(values)))
    return np.array(scores)


def _token_windows(dfm: DocumentFeatureMatrix, windows: str | int | Sequence[Any] | None
                   ) -> tuple[sp.csc_matrix, dict[str, int]]:
    """Presence matrix over the feature vocabulary for the coherence windows of `dfm`."""
    index = dfm.feature_index()
    if windows is not None and not isinstance(windows, (str, int)):
        return window_presence(list(dfm.features), windows), index
    if windows is None:
        windows = "units" if dfm.unit in ("paragraph", "sentence") else 20
    if windows == "units":
        return sp.csc_matrix((dfm.counts > 0).astype(np.float64)), index
    if dfm.tokens is None:
        raise ValueError("sliding-window coherence needs the matrix's tokens")
    size = int(windows)
    cols = dfm.tokens["token"].map(index).to_numpy()
    docs = pd.factorize(dfm.tokens["doc_id"])[0]
    # windows of `size` consecutive kept tokens, stepping by size // 2, never across documents
    rows, out_cols, w = [], [], 0
    step = max(size // 2, 1)
    starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
    ends = np.r_[starts[1:], len(docs)]
    for s, e in zip(starts, ends, strict=True):
        for left in range(s, max(e - size, s) + 1, step):
            uniq = np.unique(cols[left:min(left + size, e)])
            rows.extend([w] * len(uniq))
            out_cols.extend(uniq.tolist())
            w += 1
    matrix = sp.csc_matrix((np.ones(len(rows)), (rows, out_cols)), shape=(w, len(index)))
    return matrix, index


# ---------------------------------------------------------------- models

def tfidf_weights(counts: sp.spmatrix) -> sp.csr_matrix:
    """Sublinear TF-IDF with l2-normalised rows (the input NMF works best on)."""
    from sklearn.feature_extraction.text import TfidfTransformer

    return TfidfTransformer(sublinear_tf=True, smooth_idf=True, norm="l2").fit_transform(
        sp.csr_matrix(counts, dtype=np.float64)).tocsr()


def _fit(method: str, counts: sp.csr_matrix, k: int, random_state: int, minibatch: bool,
         max_iter: int | None, fit_rows: np.ndarray | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Fit one model on `fit_rows` (default all) of counts.

    Returns (doc_topic weights of every row, rows summing to 1 — 0 for a row with no feature;
    topic × term weights).
    """
    train = counts if fit_rows is None else counts[fit_rows]
    if method == "nmf":
        from sklearn.decomposition import NMF, MiniBatchNMF
        from sklearn.feature_extraction.text import TfidfTransformer

        weigher = TfidfTransformer(sublinear_tf=True, smooth_idf=True, norm="l2").fit(train)
        iterations = max_iter or 400
        if minibatch:
            model = MiniBatchNMF(n_components=k, init="nndsvda", random_state=random_state,
                                 max_iter=iterations, batch_size=2048)
        else:
            model = NMF(n_components=k, init="nndsvd", random_state=random_state,
                        max_iter=iterations, tol=1e-5)
        fitted = model.fit_transform(weigher.transform(train))
        doc_topic = fitted if fit_rows is None else model.transform(weigher.transform(counts))
    elif method == "lda":
        from sklearn.decomposition import LatentDirichletAllocation

        model = LatentDirichletAllocation(
            n_components=k, random_state=random_state, max_iter=max_iter or (10 if minibatch
                                                                             else 30),
            learning_method="online" if minibatch else "batch", batch_size=2048)
        fitted = model.fit_transform(train)
        doc_topic = fitted if fit_rows is None else model.transform(counts)
    else:
        raise ValueError(f"method must be 'nmf' or 'lda', not {method!r}")
    doc_topic = np.asarray(doc_topic, dtype=float)
    sums = doc_topic.sum(axis=1, keepdims=True)
    empty = np.asarray(counts.sum(axis=1)).ravel() == 0
    doc_topic = np.divide(doc_topic, sums, out=np.zeros_like(doc_topic), where=sums > 0)
    doc_topic[empty] = 0.0
    return doc_topic, model.components_


def _top_terms(scores: np.ndarray, n: int) -> list[np.ndarray]:
    """Columns of each row's n best scores (ties: lower column = earlier feature), −inf left out."""
    tops = []
    for row in scores:
        order = np.lexsort((np.arange(len(row)), -row))[:n]
        tops.append(order[np.isfinite(row[order])])
    return tops


def relevance(components: np.ndarray, term_share: np.ndarray, lam: float = 0.6) -> np.ndarray:
    """Sievert & Shirley's (2014) term relevance: λ·log p(t|k) + (1−λ)·log(p(t|k) / p(t)).

    λ = 1 ranks by weight alone; smaller λ favours terms specific to the topic over terms that
    are frequent everywhere. 0.6 is the value their user study found best for interpretation.
    """
    p_term_topic = components / np.maximum(components.sum(axis=1, keepdims=True), 1e-300)
    with np.errstate(divide="ignore"):
        score = lam * np.log(p_term_topic) + (1.0 - lam) * np.log(
            p_term_topic / np.maximum(term_share, 1e-12))
    return np.where(p_term_topic > 0, score, -np.inf)  # a term the topic lacks never ranks


def topic_stability(reference: Sequence[Iterable[Any]], others: Sequence[Sequence[Iterable[Any]]]
                    ) -> float:
    """Mean Jaccard overlap of top-term sets after one-to-one matching, averaged over models."""
    ref = [set(t) for t in reference]
    scores = []
    for other in others:
        sets = [set(t) for t in other]
        overlap = np.array([[len(a & b) / len(a | b) if a | b else 0.0 for b in sets]
                            for a in ref])
        rows, cols = linear_sum_assignment(-overlap)
        scores.append(float(overlap[rows, cols].sum() / len(ref)))
    return float(np.mean(scores)) if scores else float("nan")


@dataclass
class TopicModel:
    """A fitted topic model's tables and the model-selection curve."""

    k: int
    method: str
    topic_terms: pd.DataFrame   # topic, term, weight, rank
    doc_topics: pd.DataFrame    # unit, topic, weight
    labels: pd.DataFrame        # topic, label, coherence
    selection: pd.DataFrame     # k, coherence, stability, chosen
    units: pd.DataFrame         # the matrix's units (metadata for prevalence)
    components: np.ndarray      # topic × feature weights
    unit_topic: np.ndarray      # unit × topic weights (rows sum to 1)

    def prevalence(self, by: str) -> pd.DataFrame:
        """Share of each topic per value of a units column (e.g. "year"), token-weighted.

        prevalence = Σ n_tokens(u)·θ(u, topic) / Σ n_tokens(u) over the units u of the group.
        Columns: <by>, topic, label, prevalence.
        """
        if by not in self.units.columns:
            raise KeyError(f"no column {by!r}; the units have {list(self.units.columns)}")
        weights = self.units["n_tokens"].to_numpy(dtype=float)
        ids, groups = pd.factorize(self.units[by], sort=True)  # missing values: −1, left out
        mass = np.zeros((len(groups), self.k))
        known = ids >= 0
        np.add.at(mass, ids[known], (self.unit_topic * weights[:, None])[known])
        totals = mass.sum(axis=1, keepdims=True)
        share = np.divide(mass, totals, out=np.zeros_like(mass), where=totals > 0)
        labels = self.labels.set_index("topic")["label"]
        frame = pd.DataFrame({
            by: np.repeat(np.asarray(groups), self.k),
            "topic": np.tile(np.arange(1, self.k + 1), len(groups)),
            "prevalence": share.ravel(),
        })
        frame.insert(2, "label", frame["topic"].map(labels).to_numpy())
        return frame


def _tables(dfm: DocumentFeatureMatrix, doc_topic: np.ndarray, components: np.ndarray,
            scores: np.ndarray, coherence: np.ndarray, n_terms: int, label_terms: int
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    k = components.shape[0]
    norm = components / np.maximum(components.sum(axis=1, keepdims=True), 1e-300)
    top = _top_terms(scores, n_terms)
    topic_terms = pd.DataFrame({
        "topic": np.repeat(np.arange(1, k + 1), [len(t) for t in top]),
        "term": np.concatenate([dfm.features[t] for t in top]),
        "weight": np.concatenate([norm[i, t] for i, t in enumerate(top)]),
        "rank": np.concatenate([np.arange(1, len(t) + 1) for t in top]),
    })
    doc_topics = pd.DataFrame({
        "unit": np.repeat(dfm.units["unit"].to_numpy(), k),
        "topic": np.tile(np.arange(1, k + 1), len(dfm.units)),
        "weight": doc_topic.ravel(),
    })
    labels = pd.DataFrame({
        "topic": np.arange(1, k + 1),
        "label": ["·".join(dfm.features[t[:label_terms]]) for t in top],
        "coherence": coherence,
    })
    return topic_terms, doc_topics, labels


def _order_topics(doc_topic: np.ndarray, components: np.ndarray, weights: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Number topics by prevalence (largest first), so topic 1 is the most common."""
    prevalence = (doc_topic * weights[:, None]).sum(axis=0)
    order = np.lexsort((np.arange(len(prevalence)), -prevalence))
    return doc_topic[:, order], components[order]


def fit_topics(dfm: DocumentFeatureMatrix, *, method: str = "nmf",
               k: int | Iterable[int] | None = None, random_state: int = 0,
               seeds: Sequence[int] = (1, 2, 3), sample_fraction: float = 0.8,
               stability_floor: float = 0.8, n_terms: int = 10, label_terms: int = 3,
               windows: str | int | Sequence[Any] | None = None,
               term_ranking: str = "relevance", relevance_lambda: float = 0.6,
               min_unit_tokens: int = 5, minibatch: bool | str = "auto",
               max_iter: int | None = None) -> TopicModel:
    """Fit topic models over `dfm` for each k and keep the one chosen by coherence/stability.

    k: an int (no selection; the curve has that k only), an iterable of ints, or None for
    range(3, 13). seeds: the subsampling seeds used for stability (offset by random_state); pass
    () to skip stability. windows: coherence windows — None (see module docstring), "units", an
    int (sliding windows of that many kept tokens), or a list of texts/token lists.
    term_ranking: "relevance" (default; λ = relevance_lambda, see `relevance`) or "weight"
    orders each topic's terms; `weight` in topic_terms is always p(term | topic). Coherence and
    stability are computed on the top terms as ranked, i.e. on what the tables show.
    min_unit_tokens: units with fewer feature tokens (subheadings, one-line paragraphs) are left
    out of fitting — they would each claim a topic of their own — but still get doc_topics.
    max_iter: None → 400 for NMF, 30 for batch LDA (10 online).
    """
    if term_ranking not in ("relevance", "weight"):
        raise ValueError(f"term_ranking must be 'relevance' or 'weight', not {term_ranking!r}")
    if method not in ("nmf", "lda"):
        raise ValueError(f"method must be 'nmf' or 'lda', not {method!r}")
    ks = [int(k)] if isinstance(k, (int, np.integer)) else list(range(3, 13) if k is None else k)
    if not ks or min(ks) < 1:
        raise ValueError(f"k must be positive, not {ks}")
    counts = dfm.counts.tocsr().astype(np.float64)
    weights = np.asarray(dfm.counts.sum(axis=1), dtype=float).ravel()
    fit_rows = np.flatnonzero(weights >= max(min_unit_tokens, 1))
    n_fit = len(fit_rows)
    if n_fit < 2 * max(ks):
        raise ValueError(f"{n_fit} units with at least {min_unit_tokens} feature tokens are too "
                         f"few for {max(ks)} topics; analyse a single report by paragraph "
                         "(build_dfm(..., unit='paragraph')) or lower min_unit_tokens")
    if minibatch == "auto":
        minibatch = n_fit > MINIBATCH_UNITS
    presence = _token_windows(dfm, windows)
    term_share = np.asarray(dfm.counts.sum(axis=0), dtype=float).ravel()
    term_share /= max(term_share.sum(), 1.0)

    def ranked(components: np.ndarray) -> np.ndarray:
        if term_ranking == "weight":
            return components
        return relevance(components, term_share, relevance_lambda)

    samples = []
    for seed in seeds:
        sample_rng = np.random.default_rng([random_state, seed])
        size = min(max(int(round(sample_fraction * n_fit)), 2 * max(ks)), n_fit)
        samples.append((seed, np.sort(sample_rng.choice(fit_rows, size=size, replace=False))))

    rows, fits = [], {}
    for n_topics in sorted(set(ks)):
        doc_topic, components = _fit(method, counts, n_topics, random_state, bool(minibatch),
                                     max_iter, fit_rows)
        top = _top_terms(ranked(components), TOP_TERMS)
        coherence = npmi_coherence([list(dfm.features[t]) for t in top], presence=presence)
        others = []
        for seed, idx in samples:
            _, sub_components = _fit(method, counts, n_topics, random_state + seed,
                                     bool(minibatch), max_iter, idx)
            sub_top = _top_terms(ranked(sub_components), TOP_TERMS)
            others.append([dfm.features[t].tolist() for t in sub_top])
        stability = (topic_stability([dfm.features[t].tolist() for t in top], others)
                     if others else np.nan)
        rows.append({"k": n_topics, "coherence": float(np.nanmean(coherence)),
                     "stability": stability})
        fits[n_topics] = (doc_topic, components)
    selection = pd.DataFrame(rows, columns=SELECTION_COLUMNS[:3])
    stab = selection["stability"].to_numpy()
    eligible = (np.ones(len(selection), dtype=bool) if np.all(np.isnan(stab))
                else stab >= stability_floor * np.nanmax(stab))
    best = selection[eligible].sort_values(["coherence", "k"], ascending=[False, True],
                                           kind="mergesort").iloc[0]
    chosen = int(best["k"])
    selection["chosen"] = selection["k"] == chosen

    doc_topic, components = _order_topics(*fits[chosen], weights)
    top = _top_terms(ranked(components), TOP_TERMS)
    coherence = npmi_coherence([list(dfm.features[t]) for t in top], presence=presence)
    topic_terms, doc_topics, labels = _tables(dfm, doc_topic, components, ranked(components),
                                              coherence, n_terms, label_terms)
    return TopicModel(k=chosen, method=method, topic_terms=topic_terms, doc_topics=doc_topics,
                      labels=labels, selection=selection, units=dfm.units.copy(),
                      components=components, unit_topic=doc_topic)
