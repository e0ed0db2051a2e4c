"""Loading reports: a folder or a list of files → a `Corpus` whose `.documents` is a DataFrame.

Formats, encodings and metadata are resolved here; nothing is cleaned (see `textmine.clean`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DOCUMENT_COLUMNS = ["doc_id", "title", "date", "source", "author", "path", "encoding",
                    "n_chars", "text"]
SKIPPED_COLUMNS = ["path", "reason"]


class InputError(Exception):
    """A file that cannot be read; the message names the file and the problem."""


@dataclass
class Corpus:
    """Documents as loaded (raw text) and the files that could not be read, with why."""

    documents: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    root: Path | None = None

    def __len__(self) -> int:
        return len(self.documents)

    @classmethod
    def from_texts(cls, texts: dict[str, str] | list[str]) -> Corpus:
        """A corpus from strings in memory (doc_id → text, or a list: doc0, doc1, …)."""
        if not isinstance(texts, dict):
            texts = {f"doc{i}": t for i, t in enumerate(texts)}
        rows = [{"doc_id": k, "title": "", "date": "", "source": "", "author": "", "path": "",
                 "encoding": "", "n_chars": len(v), "text": v} for k, v in texts.items()]
        return cls(pd.DataFrame(rows, columns=DOCUMENT_COLUMNS))


def load_corpus(path: str | Path | list[str | Path], **options) -> Corpus:
    """Read a folder (recursively) or a list of files; see the module docstring."""
    paths = [Path(p) for p in path] if isinstance(path, list) else [Path(path)]
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.txt")) if p.is_dir() else [p])
    root = paths[0] if len(paths) == 1 and paths[0].is_dir() else None
    rows = []
    for f in files:
        text = f.read_text(encoding="utf-8-sig")
        doc_id = str(f.relative_to(root).with_suffix("")) if root else f.stem
        rows.append({"doc_id": doc_id, "title": "", "date": "", "source": "", "author": "",
                     "path": str(f), "encoding": "utf-8", "n_chars": len(text), "text": text})
    return Corpus(pd.DataFrame(rows, columns=DOCUMENT_COLUMNS), root=root)
