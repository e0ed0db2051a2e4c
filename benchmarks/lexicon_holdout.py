"""Held-out coverage of the governance lexicon: the shipped lexicon beside a held-out build.

The held-out build is part 1 re-extracted by scripts/build_lexicon.py with the 2026 provincial
reports left out; the figures below for it are the procedure's held-out figures (the shipped
lexicon read those reports, so its figures are in-sample). Both are measured on
../shared/corpora/gov-work-reports-provincial-2026 with tests/annotations/governance_terms.txt:

- isolated: the term alone is one token (`tok.cut(term) == [term]`);
- never cut: no token boundary inside any of its occurrences in the reports;
- exact everywhere: the term is a token at every occurrence;
- occurrences uncut / exact: the same two, counted over occurrences.

Under each table, the ceiling no segmentation can pass on that list: two listed terms whose
occurrences overlap in the reports (营商环境 inside 优化营商环境, or crossing) cannot both be
tokens there, so "exact everywhere" and "occurrences exact" have an upper bound below 100%.

Also printed: entries, and the mean length of Han tokens on the national reports; then the
same figures for tests/annotations/governance_terms_natural.txt (terms as they come, whole in
plain jieba or not) on ../shared/corpora/cpc-congress-reports, and for
tests/annotations/governance_terms_party_news.txt (party-building and grassroots terms as they
come) on ../shared/corpora/party-building-news, each with a build that leaves those reports out
beside the shipped lexicon (which read them).
Usage: ``python benchmarks/lexicon_holdout.py`` (about five minutes).
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from textmine.segment import Tokenizer, bundled_lexicon_path, term_coverage  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
HELD_OUT = "gov-work-reports-provincial-2026"
TERMS = ROOT / "tests" / "annotations" / "governance_terms.txt"
NATURAL = "cpc-congress-reports"
NATURAL_TERMS = ROOT / "tests" / "annotations" / "governance_terms_natural.txt"
PARTY_NEWS = "party-building-news"
PARTY_NEWS_TERMS = ROOT / "tests" / "annotations" / "governance_terms_party_news.txt"
HAN = "\u4e00", "\u9fff"


def _builder():
    spec = importlib.util.spec_from_file_location("build_lexicon",
                                                  ROOT / "scripts" / "build_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mean_han_length(tok: Tokenizer, texts: list[str]) -> float:
    """Mean characters of the tokens made only of Han characters."""
    lengths = [len(w) for text in texts for w in tok.cut(text)
               if w and all(HAN[0] <= ch <= HAN[1] for ch in w)]
    return sum(lengths) / len(lengths)


def read_terms(path: Path) -> list[str]:
    """One term a line; `#` comment lines skipped."""
    return [t.strip() for t in path.read_text(encoding="utf-8").splitlines()
            if t.strip() and not t.startswith("#")]


def _occurrences(terms: list[str], text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of every occurrence of every term in `text`, sorted."""
    found = []
    for term in terms:
        i = text.find(term)
        while i >= 0:
            found.append((i, i + len(term), term))
            i = text.find(term, i + 1)
    return sorted(found)


def _min_cover(graph: nx.Graph) -> int:
    """Size of a smallest set of nodes touching every edge of a connected `graph`: tried by
    size up to 16 nodes (the components of these lists' overlap graphs are small); beyond,
    the size of a largest matching, which no cover can be smaller than."""
    nodes, edges = sorted(graph), list(graph.edges())
    if len(nodes) > 16:
        return len(nx.max_weight_matching(graph, maxcardinality=True))
    for k in range(len(nodes) + 1):
        for chosen in itertools.combinations(nodes, k):
            picked = set(chosen)
            if all(a in picked or b in picked for a, b in edges):
                return k
    return len(nodes)


def exact_ceiling(terms: list[str], texts: list[str]) -> tuple[int, int, float, float]:
    """What no segmentation can beat on a term list: occurrences of two listed terms that
    overlap (nested, 营商环境 in 优化营商环境, or crossing) cannot both be tokens.

    Returns the terms overlapping another listed term somewhere in `texts`, the fewest terms
    that must miss a token somewhere (a smallest vertex cover of the overlap graph), and the
    highest possible "exact everywhere" and "occurrences exact" shares.
    """
    graph = nx.Graph()
    graph.add_nodes_from(terms)
    total = most_disjoint = 0
    for text in texts:
        found = _occurrences(terms, text)
        total += len(found)
        for a, (_, end, term) in enumerate(found):
            for start2, _, term2 in found[a + 1:]:
                if start2 >= end:
                    break
                if term2 != term:
                    graph.add_edge(term, term2)
        # the most occurrences that can be tokens at once: a largest set of disjoint
        # occurrences (intervals taken by earliest end)
        last_end = -1
        for start, end, _ in sorted(found, key=lambda o: (o[1], o[0])):
            if start >= last_end:
                most_disjoint += 1
                last_end = end
    overlapping = sum(1 for n in graph if graph.degree(n))
    cover = sum(_min_cover(graph.subgraph(c)) for c in nx.connected_components(graph)
                if len(c) > 1)
    n = max(len(terms), 1)
    return overlapping, cover, 1 - cover / n, most_disjoint / total if total else float("nan")


def table(title: str, terms: list[str], texts: list[str], rows: dict[str, Tokenizer],
          national: list[str]) -> None:
    """Print the figures of each tokenizer on one term list."""
    print(title)
    names = ["isolated", "never cut", "exact everywhere", "occurrences uncut",
             "occurrences exact"]
    print(f"{'lexicon':32} {'entries':>7} " + " ".join(f"{n:>17}" for n in names)
          + f" {'Han token length':>16}")
    for label, tok in rows.items():
        figures = term_coverage(terms, texts, tok)
        entries = len(tok.lexicon_index)
        print(f"{label:32} {entries:>7} " + " ".join(f"{figures[n]:>17.1%}" for n in names)
              + f" {mean_han_length(tok, national):>16.3f}")
    overlapping, cover, terms_max, occurrences_max = exact_ceiling(terms, texts)
    print(f"ceiling of any segmentation: {overlapping} terms overlap another listed term in "
          f"these reports, at least {cover} of them miss a token somewhere; exact everywhere "
          f"≤ {terms_max:.1%}, occurrences exact ≤ {occurrences_max:.1%}")


def main() -> int:
    if not (CORPORA / HELD_OUT).is_dir():
        print(f"{CORPORA / HELD_OUT} not available", file=sys.stderr)
        return 1
    national = [p.read_text(encoding="utf-8")
                for p in sorted((CORPORA / "gov-work-reports-national").glob("*.txt"))]
    build = _builder()
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, terms_path, kind, label in (
                (HELD_OUT, TERMS, "held-out", "held-out build (2026 excluded)"),
                (NATURAL, NATURAL_TERMS, "natural", "build without the CPC reports"),
                (PARTY_NEWS, PARTY_NEWS_TERMS, "party news", "build without the party news")):
            if not (CORPORA / corpus).is_dir():
                print(f"{CORPORA / corpus} not available", file=sys.stderr)
                continue
            terms = read_terms(terms_path)
            texts = [p.read_text(encoding="utf-8")
                     for p in sorted((CORPORA / corpus).glob("*.txt"))]
            folders = [CORPORA / f for f in build.DEFAULT_FOLDERS if f != corpus]
            lexicon = Path(tmp) / f"{kind}.txt"
            lexicon.write_text(build.build(folders, bundled_lexicon_path(), ROOT / "corpus"),
                               encoding="utf-8")
            rows = {
                "jieba only": Tokenizer(bundled_lexicon=False),
                label: Tokenizer(bundled_lexicon=False, userdicts=[lexicon]),
                "shipped (in-sample)": Tokenizer(),
            }
            table(f"{kind}: {len(terms)} terms on {len(texts)} reports of {corpus}", terms,
                  texts, rows, national)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
