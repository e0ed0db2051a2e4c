"""Writing and reading tidy tables as CSV, JSON Lines or Parquet, chosen by file extension.

Every write is atomic, so a killed run leaves the previous table or the new one.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd

from textmine.cache import atomic_write_bytes

FORMATS = ("csv", "jsonl", "parquet")


def format_for(path: str | Path, default: str = "csv") -> str:
    """The table format named by a path's extension (.csv, .jsonl/.json, .parquet/.pq)."""
    suffix = Path(str(path)).suffix.lower()
    return {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet",
            ".pq": "parquet"}.get(suffix, default)


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """Serialise a table; lists (e.g. formulation members) survive in JSONL and Parquet."""
    if fmt == "csv":
        return df.to_csv(index=False).encode("utf-8")
    if fmt == "jsonl":
        if df.empty:
            return b""
        return df.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        df = df.copy(deep=False)
        df.attrs = {}  # run statistics (cache hits) are not data: keep them out of the file
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_table(df: pd.DataFrame, path: str | Path | None, fmt: str | None = None) -> None:
    """Write `df` to `path` (atomically) or, when path is None or '-', to standard output."""
    if path is None or str(path) == "-":
        fmt = fmt or "csv"
        if fmt == "parquet":
            raise ValueError("Parquet cannot go to standard output; give --out FILE.parquet")
        sys.stdout.buffer.write(table_bytes(df, fmt))
        sys.stdout.flush()
        return
    atomic_write_bytes(path, table_bytes(df, fmt or format_for(path)))


def read_table(path: str | Path) -> pd.DataFrame:
    fmt = format_for(path)
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)
