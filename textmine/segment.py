"""Segmentation: jieba's word boundaries, a governance lexicon, protected spans, tidy tokens.

`Tokenizer` holds the lexicons and stopwords (parameters in `__init__`, no global state) and
segments with jieba-rs (the `rjieba` binding) loaded with jieba's own dictionary plus the bundled
and user lexicons, so its boundaries are those of a `jieba.Tokenizer` loaded with the same
lexicons (tests check this on the national reports), at several times jieba's speed and with
POS tags (the dictionary tag, as jieba.posseg and jieba-rs give it). jieba's global default
tokenizer is never touched. Quantities, dates and formulations found by
`textmine.spans.detect_spans` are single tokens with their own POS tag (mq, t, nz); jieba
segments the text between them. Two exceptions put the lexicon first: a span that is itself a
lexicon word takes the lexicon's tag (二十大: nz), and a formulation span containing a lexicon
word is segmented (“乡村振兴大比武” → 乡村振兴 / 大比武) so the terms researchers count are counted.

`tokenize(corpus_or_text)` returns the tokens table — doc_id, sent_id, token_id (0… within a
document), token, pos, start, end (offsets into the cleaned document text: text[start:end] ==
token), is_stop (stopword, punctuation or symbol) — for the sentences of the analysed block
kinds, whitespace dropped, cached per document on disk. `entities(tokens)` counts people,
places and organisations; `lexicon_check(terms)` shows how terms segment and why.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from textmine.config import DEFAULT_ANALYSIS_KINDS

TOKEN_COLUMNS = ["doc_id", "sent_id", "token_id", "token", "pos", "start", "end", "is_stop"]
ENTITY_COLUMNS = ["doc_id", "token", "entity_class", "count"]

#: Bump when the segmentation logic changes results (part of every cache key).
SEGMENTER_VERSION = "1"

#: Characters jieba's default mode keeps together in one block (its `re_han_default`). A lexicon
#: word made only of these can enter jieba's dictionary; any other word (spaces, punctuation,
#: middle dots …) cannot, and is matched by this module as a protected span instead.
_JIEBA_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")

#: jieba's POS tag set (ICTCLAS-style, as used in its dict.txt) plus the span tags.
_POS_TAG = re.compile(r"[a-z]{1,5}[0-9]?")

#: jieba's rule for unknown non-Han runs (`finalseg.re_skip`): letters/digits, then the rest.
_JIEBA_SKIP = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?")
_JIEBA_SKIP_SPLIT = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_ASCII_JOINER = re.compile(r"[^a-zA-Z0-9]")

#: A private-use character: never in real text, used to align jieba-rs's frequency total.
_TOTAL_PAD = "\ue000\ue001"


class LexiconError(ValueError):
    """A lexicon or stopword file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One dictionary word: `freq`/`tag` None when the file leaves them out."""

    word: str
    freq: int | None
    tag: str | None
    source: str


def _data_path(name: str) -> Path:
    return Path(str(resources.files("textmine") / "data" / name))


def bundled_lexicon_path() -> Path:
    """The governance lexicon shipped with textmine (see textmine/data/LEXICON.md)."""
    return _data_path("lexicon.txt")


def bundled_stopwords_path() -> Path:
    """The stopword list shipped with textmine (see textmine/data/STOPWORDS.md)."""
    return _data_path("stopwords.txt")


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LexiconError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_lexicon_line(line: str) -> tuple[str, int | None, str | None] | None:
    """Parse `word [freq] [pos]` (jieba's format; tabs or spaces); None for blanks and comments.

    Unlike jieba, the word may itself contain spaces: with tab separators everything before the
    first tab is the word; otherwise a trailing number and/or POS tag are split off the end.
    """
    line = line.replace("\ufeff", "").strip()
    if not line or line.startswith("#"):
        return None
    if "\t" in line:
        fields = [f.strip() for f in line.split("\t")]
        word, rest = fields[0], [f for f in fields[1:] if f]
    else:
        parts = line.split()
        rest = []
        # at most two trailing fields: freq then tag, or one of them
        if len(parts) >= 2 and _POS_TAG.fullmatch(parts[-1]) and parts[-2].isdigit() \
                and len(parts) >= 3:
            rest = parts[-2:]
        elif len(parts) >= 2 and parts[-1].isdigit():
            rest = parts[-1:]
        elif len(parts) >= 2 and _POS_TAG.fullmatch(parts[-1]) and not _is_ascii_word(parts[-2]):
            rest = parts[-1:]
        word = line
        for field in reversed(rest):
            word = word[: word.rstrip().rfind(field)].rstrip()
    freq: int | None = None
    tag: str | None = None
    for field in rest:
        if field.isdigit() and freq is None and tag is None:
            freq = int(field)
        elif _POS_TAG.fullmatch(field) and tag is None:
            tag = field
        else:
            raise ValueError(f"unexpected field {field!r} (expected: word [freq] [pos])")
    if not word:
        raise ValueError("empty word")
    return word, freq, tag


def _is_ascii_word(s: str) -> bool:
    return s.isascii() and s.isalpha()


def read_lexicon(path: str | Path) -> list[LexiconEntry]:
    """Read a lexicon in jieba's format (BOM, CRLF and words with spaces allowed)."""
    path = Path(path)
    entries = []
    for number, line in enumerate(_read_lines(path), start=1):
        try:
            parsed = parse_lexicon_line(line)
        except ValueError as exc:
            raise LexiconError(f"{path}, line {number}: {exc}: {line.strip()!r}") from None
        if parsed is not None:
            entries.append(LexiconEntry(*parsed, source=f"{path.name}:{number}"))
    return entries


def read_stopwords(path: str | Path) -> list[str]:
    """Read a stopword file: one word a line, `#` comments, BOM and CRLF allowed."""
    path = Path(path)
    words = []
    for line in _read_lines(path):
        line = line.replace("\ufeff", "").strip()
        if line and not line.startswith("#"):
            words.append(line)
    return words


def is_punctuation(token: str) -> bool:
    """True for tokens made only of punctuation, symbols or spaces (no letter, digit or Han)."""
    if token and "\u4e00" <= token[0] <= "\u9fff":
        return False
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in token)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


class Tokenizer:
    """A jieba word segmenter with lexicons, protected spans, POS tags and stopwords.

    Parameters (scikit-learn style, stored as given):
      userdicts: extra lexicon files in jieba's format, merged over the bundled lexicon in order.
      stopwords: extra stopword files (one word a line), added to the bundled list.
      words: extra lexicon entries in memory: strings or (word, freq, tag) tuples.
      bundled_lexicon / bundled_stopwords: use the lists shipped in textmine/data.
      protect_spans: keep `textmine.spans.detect_spans` spans as single tokens.
      hmm: let jieba's HMM join unknown characters into words (jieba's default).
      engine: "rjieba" (fast, default) or "jieba" (the reference implementation, slow).

    Calling the tokenizer on a string returns its non-stopword tokens, so it can be given to
    scikit-learn (`TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False)`).
    It pickles without its dictionary, which is rebuilt lazily in the receiving process.
    """

    def __init__(self, userdicts: Sequence[str | Path] = (), stopwords: Sequence[str | Path] = (),
                 *, words: Sequence[str | tuple] = (), bundled_lexicon: bool = True,
                 bundled_stopwords: bool = True, protect_spans: bool = True, hmm: bool = True,
                 engine: str = "rjieba"):
        if engine not in ("rjieba", "jieba"):
            raise ValueError(f"engine must be 'rjieba' or 'jieba', not {engine!r}")
        if isinstance(userdicts, (str, Path)):
            userdicts = (userdicts,)
        if isinstance(stopwords, (str, Path)):
            stopwords = (stopwords,)
        self.userdicts = tuple(str(p) for p in userdicts)
        self.stopwords = tuple(str(p) for p in stopwords)
        self.words = tuple(words)
        self.bundled_lexicon = bundled_lexicon
        self.bundled_stopwords = bundled_stopwords
        self.protect_spans = protect_spans
        self.hmm = hmm
        self.engine = engine

    # -- pickling: parameters only; the engine is rebuilt on first use ---------------------
    _LAZY = ("_engine", "_cut", "_vocab", "_tags", "_protected_re", "_term_set", "_term_max",
             "_term_heads", "_terms_by_head",
             "entries",
             "stopword_set", "protected_words", "fingerprint", "lexicon_index")

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._LAZY}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"Tokenizer({params})"

    @classmethod
    def from_config(cls, config: Any = None, corpus_root: str | Path | None = None,
                    **overrides: Any) -> Tokenizer:
        """A tokenizer with the lexicons and stopwords of a `Config` and a corpus folder.

        `corpus_root/userdict.txt` and `corpus_root/stopwords.txt` are added when they exist,
        after the files named in the config.
        """
        userdicts = list(getattr(config, "userdicts", ()) or ())
        stopwords = list(getattr(config, "stopwords", ()) or ())
        if corpus_root is not None:
            root = Path(corpus_root)
            if (root / "userdict.txt").is_file():
                userdicts.append(str(root / "userdict.txt"))
            if (root / "stopwords.txt").is_file():
                stopwords.append(str(root / "stopwords.txt"))
        return cls(userdicts=userdicts, stopwords=stopwords, **overrides)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn's convention)."""
        return {k: getattr(self, k) for k in ("userdicts", "stopwords", "words",
                                              "bundled_lexicon", "bundled_stopwords",
                                              "protect_spans", "hmm", "engine")}

    # -- lexicons --------------------------------------------------------------------------
    @cached_property
    def entries(self) -> list[LexiconEntry]:
        """All lexicon entries in merge order: bundled, then each user file, then `words`."""
        entries: list[LexiconEntry] = []
        if self.bundled_lexicon:
            entries.extend(read_lexicon(bundled_lexicon_path()))
        for path in self.userdicts:
            entries.extend(read_lexicon(path))
        for i, item in enumerate(self.words):
            if isinstance(item, str):
                entries.append(LexiconEntry(item, None, None, f"words[{i}]"))
            else:
                word, freq, tag = (tuple(item) + (None, None))[:3]
                entries.append(LexiconEntry(word, None if freq is None else int(freq), tag,
                                            f"words[{i}]"))
        return entries

    @cached_property
    def lexicon_index(self) -> dict[str, LexiconEntry]:
        """word → the entry that decides it (the last one merged wins, as in jieba)."""
        return {e.word: e for e in self.entries}

    @cached_property
    def protected_words(self) -> dict[str, str]:
        """Lexicon words jieba cannot hold (spaces, punctuation …) → POS; matched as spans."""
        return {e.word: e.tag or "nz" for e in self.lexicon_index.values()
                if not _JIEBA_BLOCK.fullmatch(e.word)}

    @cached_property
    def stopword_set(self) -> frozenset[str]:
        words: list[str] = []
        if self.bundled_stopwords:
            words.extend(read_stopwords(bundled_stopwords_path()))
        for path in self.stopwords:
            words.extend(read_stopwords(path))
        return frozenset(words)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of everything that changes the tokens: lexicons, stopwords, settings, versions."""
        from importlib.metadata import version

        import jieba
        import rjieba  # noqa: F401

        from textmine import spans

        h = hashlib.sha256()
        parts = [SEGMENTER_VERSION, jieba.__version__, version("rjieba"), self.engine,
                 self.hmm, self.protect_spans, _file_digest(Path(spans.__file__)),
                 _file_digest(Path(spans.__file__).with_name("formulations.py")),
                 _file_digest(Path(__file__)),
                 tuple((e.word, e.freq, e.tag) for e in self.entries),
                 tuple(sorted(self.stopword_set))]
        for p in parts:
            h.update(repr(p).encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()

    # -- engine ----------------------------------------------------------------------------
    def reference_jieba(self):
        """A `jieba.Tokenizer` (jieba's default dictionary) given the same lexicons.

        Loaded the way jieba users do (`add_word(word, freq, tag)` per entry, jieba choosing a
        missing frequency), it is the reference the fast engine must agree with. jieba's global
        default tokenizer is never touched.
        """
        import jieba

        tk = jieba.Tokenizer()
        tk.initialize()
        for e in self.entries:
            if _JIEBA_BLOCK.fullmatch(e.word):
                tk.add_word(e.word, e.freq, e.tag)
        return tk

    def _resolved_entries(self) -> list[tuple[str, int, str | None]]:
        """Dictionary entries in merge order, each with the frequency jieba would give it.

        A missing frequency is jieba's `suggest_freq(word, tune=False)` on the dictionary as
        loaded so far, computed with a reference `jieba.Tokenizer` (only when one is missing).
        """
        entries = [e for e in self.entries if _JIEBA_BLOCK.fullmatch(e.word)]
        if all(e.freq is not None for e in entries):
            return [(e.word, int(e.freq), e.tag) for e in entries]
        import jieba

        tk = jieba.Tokenizer()
        tk.initialize()
        out = []
        for e in entries:
            freq = int(e.freq) if e.freq is not None else tk.suggest_freq(e.word, False)
            tk.add_word(e.word, freq, e.tag)
            out.append((e.word, freq, e.tag))
        return out

    def _build(self) -> None:
        base_freq, base_tags = _jieba_dictionary()
        resolved = self._resolved_entries()
        tags = dict(base_tags)
        for word, _, tag in resolved:
            if tag:
                tags[word] = tag
            elif word not in tags:
                tags[word] = "nz"
        if self.engine == "rjieba":
            import rjieba

            engine = rjieba.Jieba()
            # jieba adds a re-added word's frequency to its total without taking the old one
            # off; jieba-rs replaces it. Padding jieba-rs's total by the old frequencies makes
            # both compute identical probabilities, hence identical boundaries.
            current = {}
            pad = 0
            for word, freq, tag in resolved:
                pad += current.get(word, base_freq.get(word, 0))
                current[word] = freq
                engine.add_word(word, freq, tag or tags[word])
            if pad:
                engine.add_word(_TOTAL_PAD, pad, "x")
            self._cut = engine.cut
        else:
            engine = self.reference_jieba()

            def cut(text: str, hmm: bool, _lcut=engine.lcut) -> list[str]:
                return _lcut(text, HMM=hmm)

            self._cut = cut
        self._engine = engine
        self._tags = tags
        self._vocab = _Vocabulary()
        words = sorted(self.protected_words, key=lambda w: (-len(w), w))
        self._protected_re = re.compile("|".join(map(re.escape, words))) if words else None
        self._term_set = frozenset(w for w, _, _ in resolved)
        self._term_max = max(map(len, self._term_set), default=0)
        self._term_heads = frozenset(w[:2] for w in self._term_set)
        heads: dict[str, list[str]] = {}
        for term in sorted(self._term_set):
            heads.setdefault(term[:2], []).append(term)
        self._terms_by_head = {head: tuple(terms) for head, terms in heads.items()}
        if self.protect_spans:
            from textmine.spans import prepare_detector

            prepare_detector()

    def _ensure(self) -> None:
        if "_engine" not in self.__dict__:
            self._build()

    # -- segmentation ----------------------------------------------------------------------
    def protected_spans(self, text: str, *, figures: list[Any] | None = None
                        ) -> list[tuple[int, int, str]]:
        """(start, end, pos) of the spans kept whole: detected spans and punctuated entries.

        Two rules put the lexicon first: a span that is itself a lexicon word takes the
        lexicon's POS (二十大 is an ordinal span, tagged nz not mq), and a formulation span
        that contains a lexicon word (“乡村振兴大比武”, a quoted slogan) or lies inside one
        (八项规定 in 中央八项规定精神) is not kept whole, so the terms researchers count are
        counted everywhere. `figures`: the text's
        `spans.figure_spans`, if already computed.
        """
        self._ensure()
        found: list[tuple[int, int, str]] = []
        if self.protect_spans:
            from textmine.spans import detect_spans

            index = self.lexicon_index
            for sp in detect_spans(text, figures=figures):
                entry = index.get(sp.text)
                if sp.kind == "formulation" and self._inside_term(text, sp.start, sp.end):
                    continue
                if entry is not None and entry.tag:
                    found.append((sp.start, sp.end, entry.tag))
                elif sp.kind == "formulation" and self._holds_term(sp.text):
                    continue
                else:
                    found.append((sp.start, sp.end, sp.pos))
        if self._protected_re is not None:
            pw = self.protected_words
            extra = [(m.start(), m.end(), pw[m.group()])
                     for m in self._protected_re.finditer(text)]
            if extra:
                found = _merge_spans(found, extra)
        return found

    def _inside_term(self, text: str, start: int, end: int) -> bool:
        """Whether a longer lexicon word covers text[start:end] (中央八项规定精神 over 八项规定).

        `_terms_by_head`: the lexicon words by their first two characters (one-character
        words: by that one)."""
        by_head = self._terms_by_head
        for a in range(max(0, end - self._term_max), start + 1):
            for term in by_head.get(text[a:a + 2], ()):
                b = a + len(term)
                if b >= end and (a, b) != (start, end) and text.startswith(term, a):
                    return True
        return False

    def _holds_term(self, text: str) -> bool:
        """Whether a lexicon word (one jieba can hold) occurs inside `text`."""
        words, heads, longest = self._term_set, self._term_heads, self._term_max
        n = len(text)
        return any(text[i:j] in words for i in range(n - 1) if text[i:i + 2] in heads
                   for j in range(i + 2, min(n, i + longest) + 1))

    def tag(self, text: str) -> list[tuple[str, str, int, int]]:
        """(token, pos, start, end) for every token of `text`, whitespace and stopwords included."""
        doc = self.tokenize_document(text, [(0, 0, len(text))], keep_space=True)
        return list(zip(doc["token"].tolist(), doc["pos"].tolist(), doc["start"].tolist(),
                        doc["end"].tolist(), strict=True))

    def cut_unprotected(self, text: str) -> list[str]:
        """jieba's tokens of `text` with this tokenizer's lexicons but no protected spans."""
        doc = self.tokenize_document(text, [(0, 0, len(text))], keep_space=True, spans=[])
        return doc["token"].tolist()

    def cut(self, text: str) -> list[str]:
        """All tokens of `text` in order (protected spans whole), like `jieba.lcut`."""
        return [t[0] for t in self.tag(text)]

    def __call__(self, text: str) -> list[str]:
        """The tokens of `text` that are neither stopwords, punctuation nor whitespace."""
        doc = self.tokenize_document(text, [(0, 0, len(text))])
        return doc["token"][~doc["is_stop"]].tolist()

    def is_stop(self, token: str) -> bool:
        """A stopword, punctuation or symbol."""
        return token in self.stopword_set or is_punctuation(token)

    def tokenize_document(self, text: str, sentences: Iterable[tuple[int, int, int]],
                          keep_space: bool = False,
                          spans: list[tuple[int, int, str]] | None = None,
                          codes: bool = False) -> dict[str, np.ndarray]:
        """Columns sent_id, token, pos, start, end, is_stop for the given sentences of a text.

        `sentences` holds (sent_id, start, end). Spans are detected on the whole text (so they
        are the very spans the quantities module sees) and cut at sentence ends; jieba
        segments the rest, one piece between spans at a time. Whitespace tokens are dropped
        unless `keep_space`. `spans` replaces the detected (start, end, pos) spans if given.
        With `codes`, token and pos are replaced by row (the token's row in `vocabulary`) and
        pos_code (into `vocabulary.pos_names`): the pipeline works on these codes.
        """
        self._ensure()
        if spans is None:
            spans = self.protected_spans(text)
        pieces = _pieces(spans, sentences)
        gaps = [text[a:b] for a, b in zip(pieces.gap_start.tolist(), pieces.gap_end.tolist(),
                                          strict=True)]
        span_text = [text[a:b] for a, b in zip(pieces.span_start.tolist(),
                                               pieces.span_end.tolist(), strict=True)]
        span_pos = [spans[i][2] for i in pieces.span_index.tolist()]
        vocab = self._vocab
        vocab.start_afresh_if_full()  # before any row of this document is handed out
        gap_rows, gap_sizes = self._cut_flat(gaps)
        # Deal the tokens to their places: every span is one token, every gap its jieba tokens.
        is_gap = pieces.item_is_gap
        sizes = np.ones(len(is_gap), dtype=np.int64)
        sizes[is_gap] = gap_sizes
        item_at = np.cumsum(sizes) - sizes
        rows = np.empty(int(sizes.sum()), dtype=np.int64)
        if len(gap_rows):
            gap_first = np.cumsum(gap_sizes) - gap_sizes
            rows[np.repeat(item_at[is_gap] - gap_first, gap_sizes)
                 + np.arange(len(gap_rows))] = gap_rows
        span_at = item_at[~is_gap]
        if len(span_at):
            rows[span_at] = vocab.rows(span_text, self._words_info)
        counts = (np.add.reduceat(sizes, pieces.sent_first_item) if len(pieces.sent_first_item)
                  else np.zeros(0, np.int64))
        return self._columns(rows, span_at, span_pos, pieces.sent_ids, pieces.sent_starts,
                             counts, keep_space, codes)

    def _cut_flat(self, gaps: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary rows of jieba's tokens of all texts in `gaps` in one array, and how
        many tokens each text has.

        Each text is cut separately but in one engine call: the texts are joined with a line
        break, which jieba never joins to anything, and the line-break tokens dropped; should
        a token ever cross a joint, each text is cut on its own instead.
        """
        cut, hmm, vocab, infos = self._cut, self.hmm, self._vocab, self._words_info
        if not gaps:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        joined = "\n".join(gaps)
        rows = vocab.rows(cut(joined, hmm), infos)
        if len(gaps) == 1:
            return rows, np.asarray([len(rows)], dtype=np.int64)
        # Each joint is a "\n" token of its own unless jieba joined it to a neighbour; no gap
        # holds a "\n" of its own when the count of "\n" tokens is one less than the gaps.
        at = np.flatnonzero(rows == vocab.rows(["\n"], infos)[0])
        if len(at) != len(gaps) - 1 or joined.count("\n") != len(gaps) - 1:
            pieces = [vocab.rows(cut(g, hmm), infos) for g in gaps]
            return (np.concatenate(pieces),
                    np.fromiter(map(len, pieces), np.int64, len(pieces)))
        sizes = np.diff(np.concatenate([[-1], at, [len(rows)]])) - 1
        return np.delete(rows, at), sizes

    def _split_like_jieba(self, rows: np.ndarray, span_at: np.ndarray, counts: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split ASCII tokens the way jieba does where jieba-rs keeps them whole.

        jieba cuts an unknown run like `5G-A`, `2-3` or `www.gov.cn` at every character that
        is not a letter or digit (its `re_skip`); jieba-rs keeps the run. Rare: only tokens
        with such a character that are not dictionary words (`vocabulary.odd`) and not
        protected spans are replaced by their pieces. Returns the new rows, span positions
        and tokens per sentence.
        """
        vocab = self._vocab
        is_odd = vocab.odd[rows]
        is_odd[span_at] = False
        odd_at = np.flatnonzero(is_odd)
        distinct, which = np.unique(rows[odd_at], return_inverse=True)
        pieces = [vocab.rows([x for x in _JIEBA_SKIP_SPLIT.split(vocab.words[row]) if x],
                             self._words_info) for row in distinct.tolist()]
        n_pieces = np.fromiter(map(len, pieces), np.int64, len(pieces))
        sizes = np.ones(len(rows), dtype=np.int64)
        sizes[odd_at] = n_pieces[which]
        first = np.cumsum(sizes) - sizes  # where each old token's pieces start
        out = np.empty(int(sizes.sum()), dtype=np.int64)
        out[first[~is_odd]] = rows[~is_odd]
        k = sizes[odd_at]
        if k.sum():
            local = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
            flat = np.concatenate(pieces)
            piece_first = np.cumsum(n_pieces) - n_pieces
            out[np.repeat(first[odd_at], k) + local] = flat[np.repeat(piece_first[which], k)
                                                            + local]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        total = np.concatenate([[0], np.cumsum(sizes)])
        return out, first[span_at], np.diff(total[bounds])

    def _words_info(self, words: list[str]) -> list[tuple[str, bool, bool, bool]]:
        """`_word_info` of each word, on a short path for Chinese dictionary words (most)."""
        tags, stop, info = self._tags, self.stopword_set, self._word_info
        return [(tags[w], w in stop, False, False) if w in tags and "\u4e00" <= w[0] <= "\u9fff"
                else info(w) for w in words]

    def _word_info(self, word: str) -> tuple[str, bool, bool, bool]:
        """(dictionary POS, is_stop, is_space, is_odd_ascii) of a token."""
        tag = self._tags.get(word)
        return (tag or guess_unknown_pos(word) or _fallback_tag(word),
                word in self.stopword_set or is_punctuation(word), word.isspace(),
                self.engine == "rjieba" and _is_odd_ascii(word, self._tags))

    def _columns(self, rows, span_at, span_pos, sent_ids, sent_starts, counts, keep_space,
                 codes):
        n = len(rows)
        if n == 0:
            empty = {"sent_id": np.zeros(0, np.int64), "start": np.zeros(0, np.int64),
                     "end": np.zeros(0, np.int64), "is_stop": np.zeros(0, bool)}
            return {**empty, "row": np.zeros(0, np.int64), "pos_code": np.zeros(0, np.int32)} \
                if codes else {**empty, "token": np.zeros(0, object), "pos": np.zeros(0, object)}
        vocab = self._vocab
        if vocab.odd[rows].any():
            rows, span_at, counts = self._split_like_jieba(
                rows, np.asarray(span_at, dtype=np.int64), np.asarray(counts, dtype=np.int64))
        pos_code = vocab.pos_code[rows]
        if len(span_at):
            pos_code[np.asarray(span_at)] = vocab.pos_codes(span_pos)
        lengths = vocab.length[rows]
        counts_a = np.asarray(counts, dtype=np.int64)
        ends = np.cumsum(lengths)
        first = np.concatenate([[0], np.cumsum(counts_a)[:-1]])
        offset = np.asarray(sent_starts, dtype=np.int64) - (ends[first] - lengths[first])
        start = ends - lengths + np.repeat(offset, counts_a)
        cols = {"sent_id": np.repeat(np.asarray(sent_ids, dtype=np.int64), counts_a),
                "row": rows, "pos_code": pos_code, "start": start, "end": start + lengths,
                "is_stop": vocab.stop[rows]}
        if not keep_space:
            keep = ~vocab.space[rows]
            if not keep.all():
                cols = {k: v[keep] for k, v in cols.items()}
        if codes:
            return cols
        rows, pos_code = cols.pop("row"), cols.pop("pos_code")
        names = np.asarray(vocab.pos_names, dtype=object)
        return {"sent_id": cols["sent_id"], "token": vocab.words[rows], "pos": names[pos_code],
                "start": cols["start"], "end": cols["end"], "is_stop": cols["is_stop"]}

    def compact_tokens(self, text: str, sentences: Iterable[tuple[int, int, int]],
                       spans: list[tuple[int, int, str]] | None = None) -> dict[str, Any]:
        """`tokenize_document`'s columns with each token and POS as a code into lists of the
        document's own distinct tokens (`words`) and tags (`pos_names`).

        Independent of this process's vocabulary, so it can be cached and sent between
        processes; smaller than the strings, and quick to assemble into Arrow columns.
        """
        return self.compact(self.tokenize_document(text, sentences, spans=spans, codes=True))

    def compact(self, cols: dict[str, Any]) -> dict[str, Any]:
        """`compact_tokens` of the columns `tokenize_document(..., codes=True)` returned."""
        cols = dict(cols)
        rows = cols.pop("row")
        distinct, cols["token_code"] = _distinct_rows(rows, len(self._vocab.index))
        cols["words"] = self._vocab.words[distinct].tolist()
        cols["pos_names"] = list(self._vocab.pos_names)
        return cols

    @property
    def vocabulary(self) -> _Vocabulary:
        """This process's table of the tokens met so far (rows: see `tokenize_document`)."""
        self._ensure()
        return self._vocab


_VOCABULARY_LIMIT = 2_000_000


def _distinct_rows(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(rows, return_inverse=True)` without sorting, for rows below `n_rows`: the
    distinct rows in ascending order, and each row's place among them (int32)."""
    present = np.zeros(n_rows, dtype=bool)
    present[rows] = True
    distinct = np.flatnonzero(present)
    code = np.empty(n_rows, dtype=np.int32)
    code[distinct] = np.arange(len(distinct), dtype=np.int32)
    return distinct, code[rows]


class _Vocabulary:
    """Distinct tokens a tokenizer has met, with the column values of each token by row.

    A token's row is its code in this process: the pipeline counts and builds its tables from
    rows and never hashes the token strings again. POS tags are coded too (`pos_code` into
    `pos_names`), so a span's own tag is one more code. Grows as documents bring new tokens
    (amortised doubling) and starts afresh beyond `_VOCABULARY_LIMIT` rows, so memory stays
    bounded on endless streams; `generation` counts those fresh starts, for whoever keeps
    values by row. One per tokenizer and process, never pickled.
    """

    _ROW_ARRAYS = ("words", "pos_code", "length", "stop", "space", "odd")

    def __init__(self, capacity: int = 1 << 16):
        self.index = _RowIndex()
        self.generation = 0
        self.words = np.empty(capacity, dtype=object)
        self.pos_code = np.zeros(capacity, dtype=np.int32)
        self.length = np.zeros(capacity, dtype=np.int64)
        self.stop = np.zeros(capacity, dtype=bool)
        self.space = np.zeros(capacity, dtype=bool)
        self.odd = np.zeros(capacity, dtype=bool)
        self.pos_names: list[str] = []
        self._pos_index: dict[str, int] = {}

    def pos_codes(self, tags: Iterable[str]) -> np.ndarray:
        """The codes of POS tags, adding the tags not seen before."""
        index = self._pos_index
        out = []
        for tag in tags:
            code = index.get(tag)
            if code is None:
                code = index[tag] = len(self.pos_names)
                self.pos_names.append(tag)
            out.append(code)
        return np.asarray(out, dtype=np.int32)

    def start_afresh_if_full(self) -> None:
        """Forget every row beyond `_VOCABULARY_LIMIT` (between documents, never within one)."""
        if len(self.index) > _VOCABULARY_LIMIT:
            self.index = _RowIndex()
            self.generation += 1

    def rows(self, words: list[str], infos) -> np.ndarray:
        """The row of each of `words`, adding the words not met before with `infos(words)`."""
        index = self.index
        rows = np.fromiter(map(index.__getitem__, words), np.int64, len(words))
        if index.new:  # the index gave the words met for the first time the next rows
            self._add(index.new, infos(index.new))
            index.new = []  # only once filled: after an error the next call fills them
        return rows

    def _add(self, new_words: list[str], infos: list[tuple[str, bool, bool, bool]]) -> None:
        """Fill the rows the index gave distinct `new_words` with their (POS, is_stop,
        is_space, is_odd)."""
        end = len(self.index)
        first = end - len(new_words)
        if end > len(self.words):
            capacity = max(2 * len(self.words), end)
            for name in self._ROW_ARRAYS:
                old = getattr(self, name)
                new = np.empty(capacity, dtype=object) if old.dtype == object \
                    else np.zeros(capacity, dtype=old.dtype)
                new[:first] = old[:first]
                setattr(self, name, new)
        tags, stop, space, odd = zip(*infos, strict=True)
        self.words[first:end] = new_words
        self.pos_code[first:end] = self.pos_codes(tags)
        self.length[first:end] = np.fromiter(map(len, new_words), np.int64, len(new_words))
        self.stop[first:end] = stop
        self.space[first:end] = space
        self.odd[first:end] = odd


class _RowIndex(dict):
    """token → row; a token looked up for the first time gets the next row, and waits in
    `new` until the vocabulary fills in its columns (one pass over a document's tokens).
    A subscript adds the token: test membership with `in` or `get`."""

    __slots__ = ("new",)

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, word: str) -> int:
        row = self[word] = len(self)
        self.new.append(word)
        return row


@dataclass
class _Pieces:
    """A text's sentences cut at protected spans: gaps (for jieba) and spans, in text order."""

    item_is_gap: np.ndarray  # per piece, in order: a gap or a span
    gap_start: np.ndarray
    gap_end: np.ndarray
    span_start: np.ndarray
    span_end: np.ndarray
    span_index: np.ndarray  # the protected span each span piece comes from
    sent_ids: np.ndarray  # the sentences holding a piece, their start and first piece
    sent_starts: np.ndarray
    sent_first_item: np.ndarray


def _pieces(spans: Sequence[tuple[int, int, str]], sentences: Iterable[tuple[int, int, int]]
            ) -> _Pieces:
    """Cut each sentence (sent_id, start, end) at the spans (sorted, disjoint) overlapping it.

    A sentence overlapping k spans is, in order, gap, span, gap, …, span, gap (2k + 1 pieces,
    spans clipped to the sentence); empty gaps are dropped, and so are sentences left with no
    piece. Computed for all sentences at once with array operations.
    """
    sent = np.asarray(sentences if isinstance(sentences, np.ndarray) else list(sentences),
                      dtype=np.int64).reshape(-1, 3)
    sent_id, s0, s1 = sent[:, 0], sent[:, 1], sent[:, 2]
    starts = np.fromiter((sp[0] for sp in spans), np.int64, len(spans))
    ends = np.fromiter((sp[1] for sp in spans), np.int64, len(spans))
    first = np.searchsorted(ends, s0, side="right")  # first span ending after the start
    k = np.maximum(np.searchsorted(starts, s1, side="left") - first, 0)
    n_items = 2 * k + 1
    owner = np.repeat(np.arange(len(sent)), n_items)  # the sentence of each piece
    local = np.arange(int(n_items.sum())) - np.repeat(np.cumsum(n_items) - n_items, n_items)
    is_gap = local % 2 == 0
    # a span piece: span first+m clipped to its sentence; gap j: between spans j-1 and j
    m = local // 2
    g = first[owner] + m
    last = len(spans) - 1
    clip_start = np.maximum(starts[np.minimum(g, last)] if len(spans) else g, s0[owner])
    before = np.minimum(ends[np.clip(g - 1, 0, last)] if len(spans) else g, s1[owner])
    piece_start = np.where(is_gap, np.where(m == 0, s0[owner], before), clip_start)
    piece_end = np.where(is_gap, np.where(m == k[owner], s1[owner], clip_start),
                         np.minimum(ends[np.minimum(g, last)] if len(spans) else g,
                                    s1[owner]))
    keep = ~is_gap | (piece_end > piece_start)
    owner, is_gap, g = owner[keep], is_gap[keep], g[keep]
    piece_start, piece_end = piece_start[keep], piece_end[keep]
    holds = np.flatnonzero(np.diff(owner, prepend=-1) != 0)  # each sentence's first piece
    return _Pieces(is_gap, piece_start[is_gap], piece_end[is_gap], piece_start[~is_gap],
                   piece_end[~is_gap], g[~is_gap], sent_id[owner[holds]], s0[owner[holds]],
                   holds.astype(np.int64))


def _merge_spans(first: list[tuple[int, int, str]], second: list[tuple[int, int, str]]
                 ) -> list[tuple[int, int, str]]:
    """Non-overlapping union: `first` wins; a `second` span overlapping one is dropped."""
    out = list(first)
    starts = [s for s, _, _ in first]

    for s, e, p in second:
        i = bisect.bisect_right(starts, s)
        if i > 0 and first[i - 1][1] > s:
            continue
        if i < len(first) and first[i][0] < e:
            continue
        out.append((s, e, p))
    out.sort()
    # drop overlaps among `second` itself (regex matches do not overlap; kept for safety)
    merged: list[tuple[int, int, str]] = []
    for span in out:
        if merged and span[0] < merged[-1][1]:
            continue
        merged.append(span)
    return merged


def _is_odd_ascii(word: str, dictionary: dict[str, str]) -> bool:
    """An ASCII run jieba would cut further (see `Tokenizer._split_like_jieba`)."""
    return (word.isascii() and len(word) > 1 and _ASCII_JOINER.search(word) is not None
            and word not in dictionary and not word.isspace()
            and _JIEBA_SKIP.fullmatch(word) is None)


def _fallback_tag(word: str) -> str:
    """jieba-rs's tag for a word missing from the dictionary: eng, m or x."""
    if _ASCII_ALNUM.search(word) is None:
        return "x"
    return "eng" if _ASCII_LETTER.search(word) else "m"


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


@functools.lru_cache(maxsize=2)
def _jieba_dictionary(path: str | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """word → frequency and word → POS from jieba's dict.txt (read once per process)."""
    if path is None:
        import jieba

        path = str(Path(jieba.__file__).with_name("dict.txt"))
    freq: dict[str, int] = {}
    tags: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            freq[parts[0]] = int(parts[1]) if len(parts) > 1 else 0
            if len(parts) > 2:
                tags[parts[0]] = sys.intern(parts[2])
    return freq, tags


# -- corpus level --------------------------------------------------------------------------
class _DocumentTokens:
    """Picklable per-document job: tokens of one document, from the cache when possible.

    With `rows` (no cache, this process only) the columns keep the rows of the tokenizer's
    vocabulary (`tokenize_document(..., codes=True)`) instead of per-document codes.
    """

    def __init__(self, tokenizer: Tokenizer, cache, rows: bool = False):
        self.tokenizer = tokenizer
        self.cache = cache
        self.rows = rows

    def __call__(self, item: tuple[str, Any]) -> tuple[dict, bool]:
        """(columns, True if they came from the cache) of `item`: a document's text and its
        (sent_id, start, end) rows."""
        text, sentences = item
        tok = self.tokenizer
        if self.cache is None or not self.cache.enabled:
            if self.rows:  # kept until the table is assembled: as int32, half the memory
                # (offsets fit: `tokenize` takes this route only for corpora shorter than
                # _VOCABULARY_LIMIT characters)
                cols = tok.tokenize_document(text, sentences, codes=True)
                return {k: v.astype(np.int32) if v.dtype == np.int64 else v
                        for k, v in cols.items()}, False
            return tok.compact_tokens(text, sentences), False
        from textmine.cache import make_key

        key = make_key(tok.fingerprint, text, _sentence_bytes(sentences))
        found, value = self.cache.get("tokens", key)
        if found:
            return value, True
        value = tok.compact_tokens(text, sentences)
        self.cache.put("tokens", key, value)
        return value, False


def tokenize(corpus_or_text: Any, tokenizer: Tokenizer | None = None, *,
             kinds: tuple[str, ...] | None = DEFAULT_ANALYSIS_KINDS,
             cache: Any = None, cache_dir: str | Path | None = None, use_cache: bool = True,
             n_jobs: int | None = 1, scheduler: Any = None, quiet: bool = True) -> pd.DataFrame:
    """The tokens table of a text, Corpus or CleanCorpus (columns: TOKEN_COLUMNS).

    Only sentences of the block `kinds` are tokenized (None: all). Offsets are into the cleaned
    document text; each document's tokens are cached on disk (`cache` or a `Cache` at
    `cache_dir`, default $TEXTMINE_CACHE_DIR or the per-user folder; `use_cache=False`: none).
    """
    from textmine.cache import Cache
    from textmine.clean import as_clean_corpus
    from textmine.parallel import map_documents, runs_serially

    clean = as_clean_corpus(corpus_or_text)
    tokenizer = tokenizer if tokenizer is not None else Tokenizer()
    if not use_cache:
        cache = None
    elif cache is None:
        cache = Cache(cache_dir)
    doc_ids = list(clean.documents["doc_id"])
    texts = list(clean.documents["text"])
    items = list(zip(texts, _sentences_by_document(doc_ids, clean.analysis_sentences(kinds)),
                     strict=True))
    # Serially and without a cache, the columns keep this process's vocabulary rows and the
    # table is assembled from them once; safe while no document can make the vocabulary start
    # afresh (each character brings at most one new token, the joints between gaps one more).
    rows = (cache is None and runs_serially(n_jobs, scheduler, len(items))
            and len(tokenizer.vocabulary.index) + sum(map(len, texts)) < _VOCABULARY_LIMIT)
    job = _DocumentTokens(tokenizer, cache, rows=rows)
    done = map_documents(job, items, n_jobs=n_jobs, scheduler=scheduler, desc="tokenize",
                         quiet=quiet)
    results = [cols for cols, _ in done]
    df = (_assemble_rows(doc_ids, results, tokenizer.vocabulary) if rows
          else _assemble(doc_ids, results))
    hits = sum(hit for _, hit in done)
    df.attrs["cache"] = {"hits": hits, "misses": len(done) - hits,
                         "directory": str(cache.directory) if cache is not None else None}
    return df


def _sentences_by_document(doc_ids: list[str], sentences: pd.DataFrame) -> list[np.ndarray]:
    """Each document's (sent_id, start, end) rows, in table order, as an (n, 3) int64 array.

    Grouped with array operations: a Python loop over the sentences cost more than a tenth
    of the segmentation of a long report."""
    doc_index = pd.Index(doc_ids).get_indexer(sentences["doc_id"])
    order = np.argsort(doc_index, kind="stable")
    table = np.column_stack([sentences[c].to_numpy(np.int64)
                             for c in ("sent_id", "start", "end")])[order]
    bounds = np.searchsorted(doc_index[order], np.arange(len(doc_ids) + 1)).tolist()
    return [table[a:b] for a, b in itertools.pairwise(bounds)]


def _sentence_bytes(sentences: Any) -> bytes:
    """(sent_id, start, end) rows as the bytes of an int64 array: part of a cache key."""
    return np.ascontiguousarray(np.asarray(sentences, dtype=np.int64).reshape(-1, 3)).tobytes()


def _assemble(doc_ids: list[str], results: list[dict]) -> pd.DataFrame:
    """The tokens table from each document's `Tokenizer.compact_tokens`, in document order."""
    if not any(len(r["start"]) for r in results):
        return _empty_tokens_table()
    lengths = [len(r["start"]) for r in results]
    n_words = [len(r["words"]) for r in results]
    words = list(itertools.chain.from_iterable(r["words"] for r in results))
    # each document's codes point into its own word list: shift them to the joined list
    token_code = np.concatenate([r["token_code"] for r in results]).astype(np.int64) + np.repeat(
        np.cumsum(n_words) - n_words, lengths)
    pos_names: dict[str, int] = {}
    pos_code = np.concatenate([
        np.asarray([pos_names.setdefault(p, len(pos_names)) for p in r["pos_names"]],
                   dtype=np.int64)[r["pos_code"]] if len(r["pos_code"]) else
        np.zeros(0, np.int64) for r in results])
    return _tokens_table(doc_ids, results, _strings_by_code(words, token_code),
                         _strings_by_code(list(pos_names), pos_code))


def _assemble_rows(doc_ids: list[str], results: list[dict], vocab: _Vocabulary
                   ) -> pd.DataFrame:
    """The tokens table from each document's `tokenize_document(..., codes=True)` columns,
    whose rows all belong to `vocab` as it is now."""
    if not any(len(r["start"]) for r in results):
        return _empty_tokens_table()
    distinct, token_code = _distinct_rows(np.concatenate([r["row"] for r in results]),
                                          len(vocab.index))
    pos_code = np.concatenate([r["pos_code"] for r in results])
    return _tokens_table(doc_ids, results, _strings_by_code(vocab.words[distinct].tolist(),
                                                            token_code),
                         _strings_by_code(list(vocab.pos_names), pos_code))


def _empty_tokens_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
        TOKEN_COLUMNS, [object, "int64", "int64", object, object, "int64", "int64", bool],
        strict=True)})


def _tokens_table(doc_ids: list[str], results: list[dict], token: pd.Series, pos: pd.Series
                  ) -> pd.DataFrame:
    """TOKEN_COLUMNS from the documents' columns and the token and pos columns built."""
    lengths = [len(r["start"]) for r in results]
    doc_index = np.repeat(np.arange(len(doc_ids), dtype=np.int32), lengths)
    return pd.DataFrame({
        "doc_id": _strings_by_code(doc_ids, doc_index),
        "sent_id": np.concatenate([r["sent_id"] for r in results], dtype=np.int64),
        "token_id": np.arange(len(doc_index), dtype=np.int64) - np.repeat(
            np.cumsum(lengths) - lengths, lengths),
        "token": token,
        "pos": pos,
        "start": np.concatenate([r["start"] for r in results], dtype=np.int64),
        "end": np.concatenate([r["end"] for r in results], dtype=np.int64),
        "is_stop": np.concatenate([r["is_stop"] for r in results]),
    }, copy=False)  # the arrays are new: no need for pandas to copy them into blocks


def _strings_by_code(values: list[str], codes: np.ndarray) -> pd.Series:
    """`values[codes]` as a pandas string column, built in Arrow without a Python loop.

    The same column (dtype and contents) as pandas makes from an object array of the strings,
    at a fraction of the cost when few distinct values repeat (doc_id, pos).
    """
    import pyarrow as pa

    dtype = pd.Series(np.asarray(values[:1], dtype=object)).dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return pd.Series(np.asarray(values, dtype=object)[codes], dtype=dtype)
    array = pa.array(values, type=pa.large_string()).take(pa.array(codes))
    return pd.Series(pd.array(array, dtype=dtype))


# -- entities ------------------------------------------------------------------------------
#: Common words that jieba's dictionary tags as names (nr*) or places (ns*); reviewed from the
#: most frequent such tokens of the development corpora. Not people, not places.
NOT_PEOPLE = frozenset((
    "高水平 智慧 养老 文明 建立健全 公正 弘扬 严格执行 拓宽 广大群众 "
    "多渠道 二中 惠民 努力提高 大力加强 维基 青少年 大力支持 市场秩序 "
    "智能化 广泛开展 幼儿园 慈善 友谊 严肃查处 崇高 努力实现 高潮 "
    "养老金 蓝天 关怀 采取措施 卫星 施政 小城镇 宣传教育 许可 阿拉伯 "
    "明显增强 高素质 阳光 光荣 公共安全 育人 碧水 爱好和平 福祉 "
    "法律援助 高新区 努力奋斗 在城镇 绿水青山 托幼 荣获 明显提高 "
    "明显改善 科学城 宝贵 封锁 新秩序 金山 光辉 史志 洪水 修正 玉米 "
    "水土保持 贡献率 康复 努力完成 蓝图 道德 相衔接 立德 银山 大家庭 "
    "新高潮 经济秩序 高端化 武警官兵 周密 杜绝 努力争取 高峰 权威 "
    "齐鲁 孤儿 努力学习 楼宇 仲夏 向心力 徐徐 招贤 大比武 姚家 成渝 "
    "邓小平理论 毛泽东思想 二十大 "
).split())
NOT_PLACES = frozenset((
    "城市 城镇 新建 普及 深度 惠及 治本 美丽 广大干部 大国 都市 "
    "高原 外国 马克思列宁主义 法治化 宜居 青春 爱国 两国 普通高中 "
    "上市 海关 山区 福利 旧中国 大城市 港澳同胞 科教兴国 智慧城市 "
    "山水 基本普及 型城市 新城 东西 依法治国 全力支持香港 河湖 "
    "防沙治沙 建设美丽 满意度 入市 治安 英雄 江河 湖泊 深海 解放台湾 "
    "兴旺 新鲜 南北 长城 台独 新区 美苏 中苏 山海 大寨 "
).split())
#: Suffixes of administrative units and of party and state bodies.
PLACE_SUFFIXES = ("自治区", "自治州", "自治县", "街道", "社区", "村", "镇", "乡", "区", "县", "市",
                  "省", "州", "旗", "盟")
ORGANISATION_SUFFIXES = ("委员会", "党工委", "党委", "党组", "党支部", "党总支", "组织部", "宣传部",
                         "统战部", "政府", "居委会", "村委会", "法院", "检察院", "局", "厅")
#: Last words and characters of the names of organisations. jieba's dictionary tags many
#: common words nt (国际化, 新兴产业, 重大进展): an nt word is an organisation only when it
#: ends with one of these.
ORGANISATION_HEAD_WORDS = tuple(w for w in ORGANISATION_SUFFIXES if len(w) > 1) + (
    "中央", "政协", "人大", "常委会", "联合会", "协会", "基金会", "公司", "银行", "大学", "中学",
    "小学", "中心", "部队", "研究所", "办事处", "联合国", "工商联")
ORGANISATION_HEAD_CHARS = frozenset("院部委会局厅办署所团党军队社行司处站校馆联盟协组庭")
#: Of those, the ones few common words end with (most words ending 院, 委, 团 name bodies:
#: 国务院, 省委, 共青团); after the others the last two characters must not be a common word
#: (干部, 场所, 冠军).
_ORGANISATION_HEAD_CHARS_ALONE = frozenset("院委团校馆社盟")
#: What comes before 政府 in the name of one government (省政府, 济南市人民政府, 中央政府);
#: 地方政府, 数字政府, 法治政府 name kinds of government or ideas of one.
_GOVERNMENT_OWNERS = ("人民", "中央", "特别行政区") + PLACE_SUFFIXES
#: Endings of ns-tagged words that are no named place: kinds of place (试点城市, 大都市) and
#: words jieba tags ns by mistake ending lexicon compounds (获批上市, 宗教事务治理法治化).
GENERIC_PLACE_HEADS = ("城市", "城镇", "都市", "山区", "上市", "入市", "法治化")
#: Last characters of the names of waters, which jieba's dictionary often tags as people
#: (梁子湖, 都柳江): a word of three characters or more ending with one is a place.
_WATER_ENDINGS = frozenset("江河湖湾港岛峡")
#: Titles that follow a surname in person references (李女士, 王书记).
PERSON_TITLES = ("女士", "先生", "书记", "主任", "老师", "同志", "大爷", "大妈", "阿姨", "师傅")
#: Titles that follow a full name (习近平总书记, 钱学森同志).
_NAME_TITLES = ("总书记", "主席", "总理", "委员长", "同志", "教授", "院士", "书记", "先生", "女士")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
    "肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏"
    "韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤")
#: With `_SURNAMES`, the first characters a name from jieba's dictionary may have: rarer
#: surnames of the figures reports name (习近平, 恽代英, 瞿秋白, 聂荣臻, 粟裕), but not those
#: that begin the common words jieba's dictionary mis-tags as names (温馨, 屠宰, 苗木).
_DICTIONARY_SURNAMES = _SURNAMES | frozenset("习恽瞿聂粟")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "夏侯", "皇甫", "东方", "慕容", "令狐",
                      "公孙")


_HAN_WORD = re.compile("[\u4e00-\u9fff]*")


def _is_han(word: str) -> bool:
    return _HAN_WORD.fullmatch(word) is not None


def guess_unknown_pos(word: str) -> str | None:
    """POS for a word jieba's HMM joined but no dictionary knows: nr, ns, nt or None.

    A 2–3 character word starting with a common surname (杨文平), or a compound surname and
    up to two characters (夏侯凤超), is a name; an unknown word ending like an administrative
    unit (…村, …街道) a place, like a party or state body (…党委, …委员会) an organisation.
    """
    if len(word) < 2 or not _is_han(word):
        return None
    if word.endswith(ORGANISATION_SUFFIXES) and len(word) >= 3:
        return "nt"
    if word.endswith(PLACE_SUFFIXES) and len(word) >= 3:
        return "ns"
    if word[-1] in "着了过的们地得等":
        return None
    if len(word) == 2 and word[0] == "于":
        return None  # the preposition joined to the next character (寓教于物 → 于物)
    if (word[0] in _SURNAMES and len(word) in (2, 3)) or \
            (word[:2] in _COMPOUND_SURNAMES and len(word) in (3, 4)):
        return "nr"
    return None


def entity_class(token: str, pos: str) -> str:
    """"person", "place", "organisation" or "" for a token and its POS tag.

    jieba's dictionary tags thousands of common words nr, ns or nt (明白, 任重道远 as names,
    国际化 as an organisation), so a tag is taken only with the shape of what it names:
    - person: nr* shaped like a Chinese name (a surname, two or three characters; a compound
      surname, three or four), or a name with a title (李女士, 王书记, 习近平总书记); an nr*
      word that names an administrative division (安顺, 黄石: `division_names`) or ends
      like one or like a water (恩施州, 梁子湖) is a place;
    - place: ns*, but not the common words jieba mis-tags (`NOT_PLACES`) nor compounds naming
      a kind of place (试点城市); an n/nz word ending like an administrative unit (西区社区);
    - organisation: nt*, or an n/nz word of four characters or more (or 省政府-like), ending
      like the name of a body (社区党委, 市委组织部, 国务院) where that ending is not the end
      of a common word (格局, 布局 in 新发展格局); 政府 only after the place or people it
      belongs to (省政府, not 地方政府, 数字政府).
    """
    if len(token) < 2:
        return ""
    if _is_person_reference(token):
        return "person"
    if pos.startswith("nr"):
        if token in NOT_PEOPLE:
            return ""
        if token in division_names() or len(token) >= 3 and (
                token.endswith(PLACE_SUFFIXES) or token[-1] in _WATER_ENDINGS):
            return "place"
        return "person" if _has_name_shape(token) else ""
    if pos.startswith("ns"):
        return "" if token in NOT_PLACES or token.endswith(GENERIC_PLACE_HEADS) else "place"
    if pos.startswith("nt"):
        return "organisation" if _names_a_body(token) else ""
    if pos in ("n", "nz") and (len(token) >= 4 or token.endswith("政府")) and _is_han(token):
        if token.endswith(ORGANISATION_SUFFIXES) and _names_a_body(token):
            return "organisation"
        if token.endswith(("街道", "社区", "村委")):
            return "place"
    return ""


#: Unit words ending the names of administrative divisions, longest first: what is left is
#: the short name the reports use (来凤县 → 来凤, 恩施土家族苗族自治州 → 恩施土家族苗族 → 恩施).
_DIVISION_UNITS = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "省", "市",
                   "县", "区", "旗", "盟")


@functools.lru_cache(maxsize=1)
def division_names() -> frozenset[str]:
    """Names of China's provinces, prefecture- and county-level divisions, full and short
    (来凤县 and 来凤), from the administrative-division table of the `cpca` package.

    jieba's dictionary tags many of them as people (安顺, 黄石, 纳雍): `entity_class` makes
    such a token a place. The table is read as a file, without importing `cpca`.
    """
    import csv
    import importlib.util

    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the table of administrative divisions comes from the cpca package, "
                          "which is not installed: pip install cpca==0.5.5")
    resources = Path(next(iter(spec.submodule_search_locations))) / "resources"
    with open(resources / "56_nations.csv", encoding="utf-8") as f:
        nations = {line.strip() for line in f if line.strip()}
    # 新疆维吾尔自治区 names the people without 族
    nations = sorted(nations | {n[:-1] for n in nations if len(n) > 2}, key=len, reverse=True)
    names: set[str] = set()
    with open(resources / "adcodes.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name = row["name"]
            if "辖" in name or not _is_han(name):
                continue  # 市辖区, 省直辖县级行政区划: not names
            names.add(name)
            short = next((name[:-len(u)] for u in _DIVISION_UNITS if name.endswith(u)), name)
            stripped = True
            while stripped:  # 土家族苗族 before 自治州
                stripped = False
                for nation in nations:
                    if short.endswith(nation) and len(short) > len(nation) + 1:
                        short, stripped = short[:-len(nation)], True
                        break
            if len(short) >= 2:
                names.add(short)
    return frozenset(names)


def _has_name_shape(token: str) -> bool:
    """A surname and one or two characters, or a compound surname and one or two."""
    if token[:2] in _COMPOUND_SURNAMES:
        return 3 <= len(token) <= 4
    return token[0] in _DICTIONARY_SURNAMES and 2 <= len(token) <= 3


def _is_person_reference(token: str) -> bool:
    """A surname with a title (李女士), or a name with one (习近平总书记; not 高级教授: a
    word of jieba's dictionary before the title must be tagged as a name)."""
    if token[0] in _SURNAMES and token[1:] in PERSON_TITLES:
        return True
    tags = _jieba_dictionary()[1]
    for title in _NAME_TITLES:
        name = token[:-len(title)]
        if token.endswith(title) and len(name) >= 2 and _has_name_shape(name):
            return tags.get(name, "nr").startswith("nr")
    return False


def _names_a_body(token: str) -> bool:
    """Whether `token` ends like the name of an organisation (see `entity_class`)."""
    if token.endswith("政府"):
        return token[:-2].endswith(_GOVERNMENT_OWNERS)
    if token.endswith(ORGANISATION_HEAD_WORDS):
        return True
    if token[-1] not in ORGANISATION_HEAD_CHARS:
        return False
    if token[-1] in _ORGANISATION_HEAD_CHARS_ALONE:
        return True
    # the last two characters are a common word (格局, 社会, 干部, 场所): not a body's ending
    tag = _jieba_dictionary()[1].get(token[-2:])
    return tag is None or tag.startswith("nt")


def entities(tokens: pd.DataFrame, classes: Sequence[str] = ("person", "place", "organisation")
             ) -> pd.DataFrame:
    """People, places and organisations in a tokens table: doc_id, token, entity_class, count.

    Sorted by doc_id, then count (descending), then token; see `entity_class` for the rules.
    """
    if len(tokens) == 0:
        return pd.DataFrame(columns=ENTITY_COLUMNS)
    pairs = tokens[["token", "pos"]].drop_duplicates()
    cls = {(t, p): entity_class(t, p) for t, p in zip(pairs["token"], pairs["pos"], strict=True)}
    df = tokens[["doc_id", "token", "pos"]].copy()
    df["entity_class"] = [cls[(t, p)] for t, p in zip(df["token"], df["pos"], strict=True)]
    df = df[df["entity_class"].isin(classes)]
    out = (df.groupby(["doc_id", "token", "entity_class"], sort=False).size()
           .reset_index(name="count"))
    out = out.sort_values(["doc_id", "count", "token"], ascending=[True, False, True],
                          kind="stable").reset_index(drop=True)
    out["count"] = out["count"].astype("int64")
    return out[ENTITY_COLUMNS]


# -- lexicon check -------------------------------------------------------------------------
LEXICON_CHECK_COLUMNS = ["term", "single", "tokens", "pos", "decided_by"]


def term_coverage(terms: Sequence[str], texts: Iterable[str],
                  tokenizer: Tokenizer | None = None) -> dict[str, float]:
    """How whole a list of terms stays: shares of the terms and of their occurrences in `texts`.

    isolated: the term alone is one token; never cut: no token boundary falls inside any of
    its occurrences; exact everywhere: it is a token at every occurrence; occurrences uncut /
    exact: the same two over occurrences (NaN when the texts hold none). The check a
    researcher runs on a term list before counting the terms.
    """
    tok = tokenizer if tokenizer is not None else Tokenizer()
    terms = list(terms)
    isolated = sum(tok.cut(t) == [t] for t in terms)
    cut: set[str] = set()
    not_exact: set[str] = set()
    occurrences = whole = exact = 0
    for text in texts:
        tokens = tok.tag(text)
        bounds = {b for _, _, s, e in tokens for b in (s, e)}
        spans = {(s, e) for _, _, s, e in tokens}
        for term in terms:
            i = text.find(term)
            while i >= 0:
                occurrences += 1
                if any(b in bounds for b in range(i + 1, i + len(term))):
                    cut.add(term)
                else:
                    whole += 1
                if (i, i + len(term)) in spans:
                    exact += 1
                else:
                    not_exact.add(term)
                i = text.find(term, i + 1)
    n = max(len(terms), 1)
    per_occurrence = (lambda k: k / occurrences) if occurrences else (lambda k: float("nan"))
    return {"isolated": isolated / n, "never cut": 1 - len(cut) / n,
            "exact everywhere": 1 - len(not_exact) / n,
            "occurrences uncut": per_occurrence(whole),
            "occurrences exact": per_occurrence(exact), "occurrences": occurrences}


def lexicon_check(terms: Iterable[str], tokenizer: Tokenizer | None = None) -> pd.DataFrame:
    """How each term segments on its own, and which lexicon entry decides each piece.

    Columns: term, single (one token?), tokens and pos (joined with " / "), decided_by: for
    each piece the lexicon entry (file:line), "jieba dictionary", "protected span (kind)" or
    "jieba HMM" (an unknown word joined by jieba's hidden Markov model).
    """
    tok = tokenizer if tokenizer is not None else Tokenizer()
    tok._ensure()
    base_freq, _ = _jieba_dictionary()
    rows = []
    for term in terms:
        spans = {(s, e): p for s, e, p in tok.protected_spans(term)}
        pieces = tok.tag(term)
        sources = []
        for w, _p, s, e in pieces:
            entry = tok.lexicon_index.get(w)
            if (s, e) in spans and entry is None:
                sources.append(f"protected span ({spans[(s, e)]})")
            elif entry is not None:
                sources.append(entry.source)
            elif base_freq.get(w):
                sources.append("jieba dictionary")
            elif is_punctuation(w):
                sources.append("punctuation")
            else:
                sources.append("jieba HMM" if len(w) > 1 else "single character")
        rows.append({"term": term, "single": len(pieces) == 1,
                     "tokens": " / ".join(w for w, _, _, _ in pieces),
                     "pos": " / ".join(p for _, p, _, _ in pieces),
                     "decided_by": " / ".join(sources)})
    return pd.DataFrame(rows, columns=LEXICON_CHECK_COLUMNS)
