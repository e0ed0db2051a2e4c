"""Run a per-document function serially, in a process pool, or on a Dask cluster.

Every document stage is `function(item) -> result`, with a picklable function; results come
back in input order whatever the engine, so serial, pooled and Dask runs give identical tables.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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


_WORKER_FUNC: Callable[[Any], Any] | None = None  # set once in each pool worker process


def _install_worker_function(func: Callable[[Any], Any]) -> None:
    global _WORKER_FUNC
    _WORKER_FUNC = func


def _call_worker_function(item: Any) -> Any:
    assert _WORKER_FUNC is not None, "pool worker started without its function"
    return _WORKER_FUNC(item)


def runs_serially(n_jobs: int | None, scheduler: Any, n_items: int) -> bool:
    """Whether `map_documents` computes in this process, one item after another."""
    return scheduler is None and min(effective_jobs(n_jobs), max(1, n_items)) == 1


def map_documents(func: Callable[[T], R], items: Sequence[T], *, n_jobs: int | None = 1,
                  scheduler: Any = None, desc: str = "", quiet: bool = True,
                  chunksize: int | None = None) -> list[R]:
    """`[func(item) for item in items]`, on one core, `n_jobs` processes or a Dask cluster.

    In a process pool `func` is sent to each worker once (not with every chunk), so a function
    object that builds something expensive on first use (a tokenizer's dictionary) builds it
    once per worker.
    """
    items = list(items)
    if runs_serially(n_jobs, scheduler, len(items)):
        return [func(item) for item in progress(items, len(items), desc, quiet)]
    client = get_client(scheduler)
    if client is not None:
        futures = client.map(func, items, pure=False)
        out = []
        for fut in progress(futures, total=len(futures), desc=desc, quiet=quiet):
            out.append(fut.result())
        if isinstance(scheduler, str):
            client.close()
        return out
    jobs = min(effective_jobs(n_jobs), max(1, len(items)))
    if chunksize is None:
        chunksize = max(1, len(items) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_install_worker_function,
                             initargs=(func,)) as pool:
        return list(progress(pool.map(_call_worker_function, items, chunksize=chunksize),
                             len(items), desc, quiet))


class _Done:
    """A finished result that looks like a future (the serial engine computes on submit)."""

    def __init__(self, value: Any):
        self._value = value

    def result(self) -> Any:
        return self._value


class Engine:
    """Where per-batch work runs: this process, a process pool or a Dask cluster.

    A context manager: `with Engine(n_jobs=2) as engine: engine.submit(func, batch).result()`.
    A Dask `scheduler` may be a `distributed.Client` (left open) or an address (a client is
    opened and closed here). `window` is how many batches may be in flight at once, which
    bounds the memory that pending results take.
    """

    def __init__(self, n_jobs: int | None = 1, scheduler: Any = None):
        self.n_jobs = n_jobs
        self.scheduler = scheduler
        self.client: Any = None
        self.pool: ProcessPoolExecutor | None = None
        self._fetcher: ThreadPoolExecutor | None = None  # Dask: fetches finished batches
        self.workers = 1

    def __enter__(self) -> Engine:
        self.client = get_client(self.scheduler)
        if self.client is not None:
            self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch")
            info = self.client.scheduler_info()
            self.workers = max(1, sum(w.get("nthreads", 1)
                                      for w in info.get("workers", {}).values()))
        else:
            self.workers = effective_jobs(self.n_jobs)
            if self.workers > 1:
                # Objects that exist now are left out of garbage collection until the pool
                # closes, so forked workers neither walk nor copy their parent's heap.
                gc.freeze()
                self.pool = ProcessPoolExecutor(max_workers=self.workers)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
            gc.unfreeze()
        if self._fetcher is not None:
            self._fetcher.shutdown(wait=False, cancel_futures=True)
            self._fetcher = None
        if self.client is not None and isinstance(self.scheduler, str):
            self.client.close()
        self.client = None

    @property
    def kind(self) -> str:
        """"dask", "pool" or "serial"."""
        return "dask" if self.client is not None else "pool" if self.pool is not None \
            else "serial"

    @property
    def window(self) -> int:
        return 1 if self.kind == "serial" else 2 * self.workers + 2

    def submit(self, func: Callable[[T], R], item: T) -> Any:
        """Start `func(item)`; the returned object's `.result()` gives its value."""
        if self.client is not None:
            # The batch travels with its task, so the scheduler hands it to whichever worker
            # is free, as a pool's queue does (a batch scattered ahead is bound to the worker
            # holding it, and uneven batches then leave the other worker idle).
            future = self.client.submit(_pickled_call, func, item, pure=False)
            # Fetched by a thread as soon as it is done, in order, as a pool's result thread
            # does: the transfer overlaps the caller's own work instead of starting when the
            # caller asks for the value.
            assert self._fetcher is not None
            return self._fetcher.submit(_unpickled_result, future)
        if self.pool is not None:
            return self.pool.submit(func, item)
        return _Done(func(item))


def _pickled_call(func: Callable[[T], R], item: T) -> bytes:
    """`func(item)` pickled in the task itself, as a pool worker does: the Dask worker's event
    loop then sends bytes without pickling (which would compete with the next task for the
    worker's GIL), and the client's event loop receives them without unpickling."""
    return pickle.dumps(func(item), protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled_result(future: Any) -> Any:
    """The value a `_pickled_call` task returned (waits for the task)."""
    return pickle.loads(future.result())


def imap_ordered(func: Callable[[T], R], items: Iterable[T], *, n_jobs: int | None = 1,
                 scheduler: Any = None) -> Iterator[R]:
    """`func(item)` for each item, yielded in input order as they finish.

    Items are consumed lazily and at most `Engine.window` are in flight, so neither the input
    nor the results are ever all in memory at once.
    """
    with Engine(n_jobs, scheduler) as engine:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(engine.submit(func, item))
            while len(pending) >= engine.window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
