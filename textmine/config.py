"""Analysis settings: one frozen dataclass, readable from a TOML file, passed explicitly.

No module keeps mutable global settings, so two configurations can run side by side in one
kernel or one process pool.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Block kinds that analyses (tokens, quantities, themes) use unless told otherwise.
DEFAULT_ANALYSIS_KINDS = ("subheading", "paragraph")


@dataclass(frozen=True)
class Config:
    """Settings that change results; everything here goes into cache keys and the manifest."""

    analysis_kinds: tuple[str, ...] = DEFAULT_ANALYSIS_KINDS
    to_simplified: bool = False  # convert traditional characters with OpenCC (t2s) on loading
    max_file_bytes: int = 200 * 1024 * 1024  # larger files are refused, naming this setting
    userdicts: tuple[str, ...] = ()  # extra jieba-format lexicons, merged over the bundled one
    stopwords: tuple[str, ...] = ()  # extra stopword files, one word a line
    cache_dir: str | None = None  # None: $TEXTMINE_CACHE_DIR, else the per-user cache folder
    use_cache: bool = True
    random_state: int = 0
    topic_range: tuple[int, int] = (3, 12)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    def replace(self, **changes: Any) -> Config:
        """Return a copy with `changes` applied (the dataclass is frozen)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Read a TOML file (keys as in `Config`, optionally under a `[textmine]` table).

    With no path, returns the defaults; a `corpus/` folder's `userdict.txt` and `stopwords.txt`
    are picked up by the stages that read a corpus, not here.
    """
    values: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        values = dict(data.get("textmine", data))
    values.update(overrides)
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {sorted(known)}")
    for name in ("analysis_kinds", "userdicts", "stopwords", "topic_range"):
        if name in values and not isinstance(values[name], tuple):
            values[name] = tuple(values[name])
    return Config(**values)
