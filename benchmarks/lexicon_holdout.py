"""Held-out coverage of the governance lexicon: the shipped lexicon beside a held-out build.

The held-out build is part 1 re-extracted by scripts/build_lexicon.py with the 2026 provincial
reports left out; the figures below for it are the procedure's held-out figures (the shipped
lexicon read those reports, so its figures are in-sample). Both are measured on
../shared/corpora/gov-work-reports-provincial-2026 with tests/annotations/governance_terms.txt:

- isolated: the term alone is one token (`tok.cut(term) == [term]`);
- never cut: no token boundary inside any of its occurrences in the reports;
- exact everywhere: the term is a token at every occurrence;
- occurrences uncut / exact: the same two, counted over occurrences.

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
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
