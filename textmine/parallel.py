"""Run a per-document function serially, in a process pool, or on a Dask cluster.

Every document stage is `function(item) -> result`, with a picklable function; results come
back in input order whatever the engine, so serial, pooled and Dask runs give identical tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def effective_jobs(n_jobs: int | None) -> int:
    """scikit-learn's convention: None or 1 → serial, -1 → all cores, -2 → all but one."""
    if n_jobs is None or n_jobs == 0:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return n_jobs


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "",
             quiet: bool = False) -> Iterable[T]:
    """tqdm's progress bar (notebook-aware), or the bare iterable when quiet."""
    if quiet:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, mininterval=0.5)


def get_client(scheduler: Any) -> Any:
    """A dask.distributed Client from a Client, an address string, or None (no Dask)."""
    if scheduler is None:
        return None
    if isinstance(scheduler, str):
        from distributed import Client

        return Client(scheduler)
    return scheduler


def map_documents(func: Callable[[T], R], items: Sequence[T], *, n_jobs: int | None = 1,
                  scheduler: Any = None, desc: str = "", quiet: bool = True,
                  chunksize: int | None = None) -> list[R]:
    """`[func(item) for item in items]`, on one core, `n_jobs` processes or a Dask cluster."""
    items = list(items)
    client = get_client(scheduler)
    if client is not None:
        futures = client.map(func, items, pure=False)
        out = []
        for fut in progress(futures, total=len(futures), desc=desc, quiet=quiet):
            out.append(fut.result())
        return out
    jobs = min(effective_jobs(n_jobs), max(1, len(items)))
    if jobs == 1:
        return [func(item) for item in progress(items, len(items), desc, quiet)]
    if chunksize is None:
        chunksize = max(1, len(items) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(progress(pool.map(func, items, chunksize=chunksize), len(items), desc, quiet))
