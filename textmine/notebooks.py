"""The main job: tables, then every notebook of the collection executed headless, then a report.

`run_main_job(corpus)` ingests and cleans the corpus, writes the stage tables to
`build/tables/` (Parquet and CSV), starts a fresh `figures/MANIFEST.json`, executes each
`notebooks/NN_*.ipynb` with papermill (parameters `corpus`, `config`, `output`; executed copies
in `build/notebooks/`), and writes `build/report.html`, one page with every executed notebook and
its figures embedded. A failing notebook is reported with the cell and the error; the others
still run.
"""

from __future__ import annotations

import base64
import io
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

NOTEBOOK_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.ipynb$")
#: The names of the parameters every notebook's `parameters` cell defines.
PARAMETERS = ("corpus", "config", "output")
KERNEL = "python3"


@dataclass
class NotebookResult:
    """How one notebook ran: where its executed copy is and, if it failed, where and why."""

    notebook: str
    executed: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        status = "ok" if self.ok else f"FAILED — {self.error}"
        return f"{self.notebook}: {status} ({self.seconds:.1f} s)"


def list_notebooks(folder: str | Path = "notebooks") -> list[Path]:
    """The collection in reading order: `NN_name.ipynb` files of `folder`, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: notebook folder not found")
    return sorted(p for p in folder.iterdir() if NOTEBOOK_PATTERN.match(p.name))


def _describe_failure(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first = next((line for line in str(exc.source).splitlines() if line.strip()), "")
        return (f"cell {exc.cell_index} (In [{exc.exec_count}]: {first.strip()[:60]}) raised "
                f"{exc.ename}: {str(exc.evalue)[:300]}")
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def execute_notebook(source: str | Path, executed: str | Path, parameters: dict[str, Any],
                     *, timeout: int = 900) -> NotebookResult:
    """Run one notebook with papermill in its own kernel; never raises for a failing cell."""
    import papermill as pm

    source, executed = Path(source), Path(executed)
    executed.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    error = None
    # the kernel inherits these: sets iterate the same way in every run, and notebooks know
    # that nobody is there to use a widget
    settings = {"PYTHONHASHSEED": "0", "TEXTMINE_HEADLESS": "1"}
    previous = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        pm.execute_notebook(str(source), str(executed), parameters=parameters,
                            kernel_name=KERNEL, cwd=str(source.parent), progress_bar=False,
                            log_output=False, execution_timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - the failure is reported, the collection goes on
        error = _describe_failure(exc)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return NotebookResult(source.stem, executed, time.perf_counter() - started, error)


def run_collection(corpus: str | Path, *, config: str | Path | None = None,
                   notebooks: str | Path = "notebooks", build: str | Path = "build",
                   figures: str | Path = "figures", jobs: int = 1, quiet: bool = False,
                   only: Sequence[str] | None = None) -> list[NotebookResult]:
    """Execute every notebook (or those named in `only`) on `corpus`; report progress."""
    from tqdm.auto import tqdm

    sources = list_notebooks(notebooks)
    if only:
        sources = [p for p in sources if p.stem in set(only) or p.name in set(only)]
    parameters = {"corpus": str(Path(corpus).resolve()),
                  "config": str(Path(config).resolve()) if config else None,
                  "output": str(Path(figures).resolve())}
    out_dir = Path(build) / "notebooks"
    tasks = [(src, out_dir / src.name, parameters) for src in sources]
    results: list[NotebookResult] = []
    bar = tqdm(total=len(tasks), desc="notebooks", unit="nb", disable=quiet, file=sys.stderr)
    workers = min(max(jobs, 1) if jobs != -1 else (os.cpu_count() or 1), max(len(tasks), 1))
    if workers <= 1:
        for task in tasks:
            bar.set_postfix_str(task[0].stem)
            results.append(execute_notebook(*task))
            _announce(results[-1], quiet, bar)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(execute_notebook, *task) for task in tasks]
            for future in futures:
                results.append(future.result())
                _announce(results[-1], quiet, bar)
    bar.close()
    return results


def _announce(result: NotebookResult, quiet: bool, bar: Any) -> None:
    bar.update(1)
    if not quiet or not result.ok:
        bar.write(str(result), file=sys.stderr)


def _inline_images(html: str, base: Path) -> str:
    """Replace `<img src="file.png">` that point at local files with data URIs."""
    def repl(m: re.Match) -> str:
        path = base / m.group(2)
        if not path.is_file():
            return m.group(0)
        mime = "image/svg+xml" if path.suffix == ".svg" else f"image/{path.suffix[1:]}"
        data = base64.b64encode(path.read_bytes()).decode()
        return f'{m.group(1)}data:{mime};base64,{data}"'
    return re.sub(r'(<img[^>]*src=")(?!data:|https?:)([^"]+)"', repl, html)


def write_report(results: Sequence[NotebookResult], out: str | Path, *,
                 title: str = "textmine report") -> Path:
    """One HTML page of the executed collection (figures embedded), with a status summary."""
    import nbformat
    from nbconvert import HTMLExporter

    summary = ["| notebook | status | seconds |", "|---|---|---|"]
    for r in results:
        status = "ok" if r.ok else "**failed**: " + r.error.replace("|", "\\|")  # type: ignore[union-attr]
        summary.append(f"| {r.notebook} | {status} | {r.seconds:.1f} |")
    combined = nbformat.v4.new_notebook()
    combined.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\n" + "\n".join(summary)))
    for r in results:
        if not r.executed.exists():
            combined.cells.append(nbformat.v4.new_markdown_cell(
                f"## {r.notebook}\n\nNot executed: {r.error}"))
            continue
        nb = nbformat.read(r.executed, as_version=4)
        combined.cells.append(nbformat.v4.new_markdown_cell(f"---\n*notebook `{r.notebook}`*"))
        combined.cells.extend(nb.cells)
    combined.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3",
                                       "language": "python"}
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(combined)
    out = Path(out)
    from textmine.cache import atomic_write_bytes

    body = _inline_images(body, out.parent)
    body = body.replace("</head>", _cjk_font_css(body) + "</head>", 1)
    atomic_write_bytes(out, body.encode("utf-8"))
    return out


def _cjk_font_css(html: str) -> str:
    """A `<style>` embedding the CJK font, cut down to the characters the page uses, as the
    last fallback of every font stack: Chinese renders even where no CJK font is installed."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from textmine.plots import cjk_font_path

    characters = {ord(c) for c in html if ord(c) > 0x7F} | set(range(0x20, 0x7F))
    font = TTFont(str(cjk_font_path()), recalcTimestamp=False)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(characters))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode()
    # first in every stack, but only for CJK code points (unicode-range): Latin text keeps the
    # page's fonts, and no installed font without Chinese glyphs can claim the characters
    sans = "'textmine-cjk', system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
    mono = "'textmine-cjk', menlo, consolas, 'DejaVu Sans Mono', monospace"
    ranges = "U+2E80-303F, U+3040-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF, U+20000-2FFFF"
    return ("<style>\n@font-face { font-family: 'textmine-cjk'; "
            f"src: url(data:font/woff;base64,{data}) format('woff'); "
            f"unicode-range: {ranges}; }}\n"
            f":root {{ --jp-ui-font-family: {sans}; --jp-content-font-family: {sans}; "
            f"--jp-code-font-family: {mono}; --jp-code-font-family-default: {mono}; }}\n"
            f"body, body * {{ font-family: {sans} !important; }}\n"
            f"body pre, body pre *, body code, body code *, body .highlight * "
            f"{{ font-family: {mono} !important; }}\n</style>\n")


def _stage_tables(clean: Any, config: Any, corpus: str | Path | None
                  ) -> dict[str, Callable[[], pd.DataFrame]]:
    """The tables of the stages after cleaning, computed on demand."""
    import textmine as tm

    cfg = config or tm.load_config()
    return {
        "tokens": lambda: tm.tokenize(clean, corpus_tokenizer(corpus or ".", cfg),
                                      cache_dir=cfg.cache_dir, use_cache=cfg.use_cache),
        "quantities": lambda: tm.extract_quantities(clean),
        "formulations": lambda: tm.extract_formulations(clean),
    }


def write_tables(clean: Any, out: str | Path, *, config: Any = None,
                 corpus: str | Path | None = None, quiet: bool = False) -> list[Path]:
    """Write the corpus tables (documents, blocks, sentences, ledger and the stage tables that
    this installation has) as Parquet and CSV; return the paths written."""
    from textmine.tables import write_table

    out = Path(out)
    tables: dict[str, Callable[[], pd.DataFrame]] = {
        "documents": lambda: clean.documents, "blocks": lambda: clean.blocks,
        "sentences": lambda: clean.sentences, "ledger": lambda: clean.ledger}
    if clean.skipped is not None:
        tables["skipped"] = lambda: clean.skipped
    tables.update(_stage_tables(clean, config, corpus))
    written = []
    for name, compute in tables.items():
        try:
            df = compute()
        except (ImportError, AttributeError, TypeError) as exc:
            if not quiet:
                print(f"table {name}: not written ({type(exc).__name__}: {exc})",
                      file=sys.stderr)
            continue
        # run diagnostics in `attrs` (cache hits, the cache folder) would go into the Parquet
        # metadata and make the bytes differ between runs and machines: tables carry data only
        df = df.copy(deep=False)
        df.attrs = {}
        for ext in ("parquet", "csv"):
            path = out / f"{name}.{ext}"
            write_table(df, path)
            written.append(path)
    return written


def run_main_job(corpus: str | Path = "corpus", *, config: str | Path | None = None,
                 build: str | Path = "build", figures: str | Path = "figures",
                 notebooks: str | Path = "notebooks", jobs: int = 1, quiet: bool = False,
                 html_report: bool = True) -> list[NotebookResult]:
    """Tables, figures (every notebook) and the HTML report; see the module docstring."""
    from textmine import provenance
    from textmine.clean import clean_corpus
    from textmine.config import load_config
    from textmine.corpus import load_corpus

    cfg = load_config(config)
    loaded = load_corpus(Path(corpus), config=cfg)
    for row in loaded.skipped.itertuples():
        print(f"skipped {row.path}: {row.reason}", file=sys.stderr)
    if len(loaded) == 0:
        raise SystemExit(f"textmine: no document could be read from {corpus}")
    clean = clean_corpus(loaded, n_jobs=jobs, quiet=quiet)
    previous = provenance.start_run(figures, corpus, config)
    tables = write_tables(clean, Path(build) / "tables", config=cfg, corpus=corpus, quiet=quiet)
    provenance.record_tables(figures, tables, corpus=corpus)
    if not quiet:
        print(f"{len(clean.documents)} documents; {len(tables)} table files in "
              f"{Path(build) / 'tables'}", file=sys.stderr)
    results = run_collection(corpus, config=config, notebooks=notebooks, build=build,
                             figures=figures, jobs=jobs, quiet=quiet)
    provenance.remove_stale(figures, previous)
    if html_report:
        report = write_report(results, Path(build) / "report.html",
                                           title=f"textmine report — {Path(corpus).name}")
        if not quiet:
            print(f"report: {report}", file=sys.stderr)
    return results


def load_clean(corpus: str | Path, config: str | Path | None = None) -> tuple[Any, Any]:
    """(Config, CleanCorpus) for a notebook: load the settings and the corpus, clean it."""
    import textmine as tm

    cfg = tm.load_config(config)
    loaded = tm.load_corpus(Path(corpus), config=cfg)
    if len(loaded) == 0:
        raise ValueError(f"{corpus}: no document could be read")
    return cfg, tm.clean_corpus(loaded, quiet=True)


def corpus_tokenizer(corpus: str | Path, config: Any = None) -> Any:
    """The tokenizer for a corpus folder: the config's lexicons and stopwords plus the folder's
    own `userdict.txt` and `stopwords.txt` when it has them."""
    from textmine.config import Config
    from textmine.segment import Tokenizer

    cfg = config if isinstance(config, Config) else Config()
    folder = Path(corpus) if Path(corpus).is_dir() else Path(corpus).parent
    userdicts = [*cfg.userdicts, *[p for p in [folder / "userdict.txt"] if p.is_file()]]
    stopwords = [*cfg.stopwords, *[p for p in [folder / "stopwords.txt"] if p.is_file()]]
    return Tokenizer(userdicts=userdicts, stopwords=stopwords)


def comparison_column(documents: pd.DataFrame) -> str:
    """The column to compare groups by: `year` when the corpus spans several years, else
    `doc_id` when it has several documents, else `part` (halves of a single report)."""
    if "year" in documents.columns and documents["year"].dropna().nunique() >= 2:
        return "year"
    if documents["doc_id"].nunique() >= 2:
        return "doc_id"
    return "part"


def add_parts(units: pd.DataFrame, n_parts: int = 2) -> pd.DataFrame:
    """Label units (in text order) with the part of their document they fall in: 1 … n_parts."""
    units = units.copy()
    position = units.groupby("doc_id", sort=False).cumcount()
    size = units.groupby("doc_id", sort=False)["doc_id"].transform("size")
    units["part"] = (position * n_parts // size + 1).astype(int)
    return units


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts from a source notebook; True if it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
        for key in ("execution", "papermill"):
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    if "papermill" in nb.metadata:
        del nb.metadata["papermill"]
        changed = True
    if changed:
        nbformat.write(nb, path)
    return changed
