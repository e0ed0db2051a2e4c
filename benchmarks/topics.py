"""Topic quality: textmine's chosen model against two baselines with the same number of topics.

Corpus: the national government work reports (../shared/corpora/gov-work-reports-national).
Windows for coherence, and the units every model is fitted on: the cleaned paragraphs
(blocks of kind "paragraph"; textmine also keeps subheadings as units). Coherence is one function
for all models — `textmine.topics.npmi_coherence` over the paragraph texts, a term being present
in a paragraph when it is a substring of it, so no model's tokenizer decides — averaged over the
topics' top 10 terms.

Baselines (scikit-learn, over `jieba.lcut` words of two or more Han characters, min_df=3,
max_df=0.5, random_state=0): LDA on counts (batch) and NMF on TF-IDF (NNDSVD start).
textmine: `topic_dfm` (its tokenizer, nouns, paragraph units, min_df=5, max_df=0.05) and
`fit_topics` choosing k by coherence and stability.

Usage: .venv/bin/python benchmarks/topics.py [--k 5,10,15,20,25,30] [--seeds 1,2,3]
Target: textmine − max(baselines) ≥ 0.10 at textmine's chosen k.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"
HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")


def top_terms(components: np.ndarray, features: np.ndarray, n: int = 10) -> list[list[str]]:
    return [[str(features[i]) for i in np.lexsort((np.arange(len(r)), -r))[:n]]
            for r in components]


def baselines(paragraphs: list[str], k: int) -> dict[str, list[list[str]]]:
    import jieba
    from sklearn.decomposition import NMF, LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    jieba.setLogLevel(60)
    words = [[w for w in jieba.lcut(p) if HAN_WORD.match(w)] for p in paragraphs]
    counts = CountVectorizer(analyzer=lambda x: x, min_df=3, max_df=0.5)
    x_counts = counts.fit_transform(words)
    lda = LatentDirichletAllocation(n_components=k, random_state=0, max_iter=20).fit(x_counts)
    tfidf = TfidfVectorizer(analyzer=lambda x: x, min_df=3, max_df=0.5)
    x_tfidf = tfidf.fit_transform(words)
    nmf = NMF(n_components=k, init="nndsvd", random_state=0, max_iter=400).fit(x_tfidf)
    return {"sklearn LDA (counts)": top_terms(lda.components_, counts.get_feature_names_out()),
            "sklearn NMF (tf-idf)": top_terms(nmf.components_, tfidf.get_feature_names_out())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="5,10,15,20,25,30", help="candidate numbers of topics")
    parser.add_argument("--seeds", default="1,2,3", help="subsampling seeds for stability")
    parser.add_argument("--method", default="nmf", choices=["nmf", "lda"])
    args = parser.parse_args()
    if not NATIONAL.exists():
        print(f"corpus not found: {NATIONAL}", file=sys.stderr)
        return 1
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*iterations.*")

    from textmine.clean import clean_corpus
    from textmine.corpus import load_corpus
    from textmine.segment import tokenize
    from textmine.topics import fit_topics, npmi_coherence, topic_dfm

    started = time.perf_counter()
    clean = clean_corpus(load_corpus(sorted(NATIONAL.glob("*.txt"))))  # reports, not resolutions
    paragraphs = clean.blocks.loc[clean.blocks["kind"] == "paragraph", "text"].tolist()
    tokens = tokenize(clean)
    dfm = topic_dfm(tokens, sentences=clean.sentences, documents=clean.documents)
    print(f"corpus: {len(clean.documents)} reports, {len(paragraphs)} paragraphs; textmine "
          f"matrix {dfm.shape[0]} units × {dfm.shape[1]} features "
          f"({time.perf_counter() - started:.1f} s to load, clean, tokenize)")

    started = time.perf_counter()
    ks = [int(v) for v in args.k.split(",")]
    seeds = tuple(int(v) for v in args.seeds.split(",") if v)
    model = fit_topics(dfm, method=args.method, k=ks, seeds=seeds, random_state=0)
    print(f"\nmodel selection ({args.method}, {time.perf_counter() - started:.1f} s):")
    print(model.selection.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    k = model.k
    ours = model.topic_terms.groupby("topic")["term"].apply(list).tolist()
    scores = {f"textmine {args.method.upper()} (chosen k={k})": npmi_coherence(ours, paragraphs)}
    by_weight = fit_topics(dfm, method=args.method, k=k, seeds=(), term_ranking="weight")
    plain = by_weight.topic_terms.groupby("topic")["term"].apply(list).tolist()
    scores["textmine, terms ranked by weight"] = npmi_coherence(plain, paragraphs)
    base = baselines(paragraphs, k)
    for name, topics in base.items():
        scores[name] = npmi_coherence(topics, paragraphs)

    print(f"\nmean NPMI coherence, top 10 terms, {len(paragraphs)} paragraphs as windows, k={k}:")
    for name, values in scores.items():
        print(f"  {name:40s} {np.nanmean(values):.3f}")
    best_baseline = max(np.nanmean(v) for v in
                        (scores[n] for n in base))
    margin = np.nanmean(scores[f"textmine {args.method.upper()} (chosen k={k})"]) - best_baseline
    print(f"\nmargin over the better baseline: {margin:+.3f} (target ≥ +0.10): "
          f"{'MET' if margin >= 0.10 else 'NOT MET'}")
    print("\ntextmine topics:")
    for row in model.labels.itertuples():
        terms = " ".join(ours[row.topic - 1])
        print(f"  {row.topic:2d} ({row.coherence:.2f}) {terms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
