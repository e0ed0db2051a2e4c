"""Check candidate curated entries before they go into part 3 of textmine/data/lexicon.txt.

Curated entries win where they meet other words, so a candidate can take a term apart: 治理效能
made 基层治理效能 read 基层 / 治理效能, 社会主义市场经济 made 社会主义市场经济体制 read
社会主义市场经济 / 体制. For each candidate this prints

- how it segments with the bundled lexicon now (a candidate already one token needs no entry),
- the commissioned terms it would cut where the two are written overlapping (基层治理 + 治理效能),
- in the corpus folders given, its occurrences and how many of them would end inside a token the
  current lexicon makes there, with those tokens (the check behind the "reform-era field" of
  LEXICON.md; read the tokens: a term cut is a reason to leave the candidate out, a fragment
  such as 物质文化遗产保护 is not).

Candidates: one a line, `word` or `word freq pos` (a lexicon field; without a frequency, jieba's
smallest one that keeps the word whole alone is used), `#` lines skipped.

    python scripts/check_curated.py candidates.txt gov-work-reports-national cpc-congress-reports
"""
from __future__ import annotations

import argparse
import bisect
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from build_lexicon import COMMISSIONED, CORPORA  # noqa: E402

from textmine.segment import Tokenizer  # noqa: E402


def read_candidates(path: Path) -> dict[str, tuple]:
    """word → (word, freq, pos) of each non-comment line, in order (freq and pos may be absent)."""
    rows = [tuple(line.split()) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    entries: dict[str, tuple] = {}
    for row in rows:
        entries.setdefault(row[0], row)
    return entries


def commissioned_cuts(entry: tuple, tok: Tokenizer) -> list[str]:
    """The strings where the entry's word overlaps a commissioned term and the term is no longer
    a token once the entry is added to `tok`'s lexicons."""
    word = entry[0]
    joined = [c + word[k:] for c in COMMISSIONED for k in range(1, min(len(word), len(c)))
              if c.endswith(word[:k])]
    joined += [word + c[k:] for c in COMMISSIONED for k in range(1, min(len(word), len(c)))
               if word.endswith(c[:k])]
    if not joined:
        return []
    with_word = Tokenizer(userdicts=tok.userdicts, words=[entry])
    return [s for s in joined
            if not any(c in with_word.cut(s) for c in COMMISSIONED if c in s)]


def crossings(words: Sequence[str], texts: Sequence[str], tok: Tokenizer
              ) -> tuple[Counter, dict[str, Counter]]:
    """Occurrences of each word in `texts`, and the tokens of `tok` that one of its ends would
    fall strictly inside (tokens of two characters or more), counted."""
    seen: Counter = Counter()
    crossed: dict[str, Counter] = {w: Counter() for w in words}
    for text in texts:
        present = [w for w in words if w in text]
        if not present:
            continue
        tokens = tok.tag(text)
        starts = [s for _, _, s, _ in tokens]
        for word in present:
            i = text.find(word)
            while i >= 0:
                seen[word] += 1
                for edge in (i, i + len(word)):
                    k = bisect.bisect_right(starts, edge) - 1
                    if k >= 0:
                        token, _, s, e = tokens[k]
                        if s < edge < e and len(token) >= 2:
                            crossed[word][token] += 1
                i = text.find(word, i + 1)
    return seen, crossed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", type=Path)
    parser.add_argument("folders", nargs="*", help="corpus folders (names in ../shared/corpora "
                        "or paths) to count crossings on")
    args = parser.parse_args(argv)
    tok = Tokenizer()
    entries = read_candidates(args.candidates)
    words = list(entries)
    texts = [p.read_text(encoding="utf-8") for f in args.folders
             for p in sorted((Path(f) if Path(f).is_dir() else CORPORA / f).glob("*.txt"))]
    seen, crossed = crossings(words, texts, tok)
    print("word\tnow\tcommissioned cut in\toccurrences\tcrossing\ttokens crossed")
    for word in words:
        cuts = commissioned_cuts(entries[word], tok)
        tokens = " ".join(f"{t}:{n}" for t, n in crossed[word].most_common(5))
        print(f"{word}\t{' / '.join(tok.cut(word))}\t{' '.join(cuts)}\t{seen[word]}\t"
              f"{sum(crossed[word].values())}\t{tokens}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
