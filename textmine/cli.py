"""The `textmine` command: one subcommand a stage, each writing tidy tables.

Run `textmine --help` for the list and `textmine COMMAND --help` for each one's options.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textmine import __version__

if TYPE_CHECKING:
    import pandas as pd


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="TOML", help="settings file (see textmine.config.Config)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="worker processes for the document stages (-1: all cores; default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the document stages on this Dask scheduler instead of locally")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def _load(args: argparse.Namespace, paths: Sequence[str]):
    """Load and clean the corpus named on the command line; report unreadable files."""
    import warnings

    from textmine.clean import clean_corpus
    from textmine.config import load_config
    from textmine.corpus import SkippedFilesWarning, load_corpus

    config = load_config(args.config)
    targets = [Path(p) for p in paths] or [Path("corpus")]
    with warnings.catch_warnings():  # the skipped files are listed just below
        warnings.simplefilter("ignore", SkippedFilesWarning)
        corpus = load_corpus(targets if len(targets) > 1 else targets[0], config=config,
                             to_simplified=getattr(args, "to_simplified", None) or None)
    for row in corpus.skipped.itertuples():
        print(f"skipped {row.path}: {row.reason}", file=sys.stderr)
    if len(corpus) == 0:
        raise SystemExit(f"textmine: no document could be read from {', '.join(map(str, targets))}")
    return config, clean_corpus(corpus, n_jobs=args.jobs, scheduler=args.scheduler,
                                quiet=args.quiet)


def _counts(values) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(Counter(values).items())) or "none"


def _summary(clean) -> str:
    """What a run read and did: documents, characters, encodings, blocks, repairs, skips."""
    docs = clean.documents
    kinds = clean.blocks["kind"] if len(clean.blocks) else []
    repairs = clean.ledger["reason"] if len(clean.ledger) else []
    encodings = [e for e in docs.get("encoding", []) if e]  # .docx/.pdf have none
    lines = [
        f"documents: {len(docs)}",
        f"characters: {int(docs['n_chars'].sum()):,} cleaned "
        f"({int(docs['raw_text'].str.len().sum()):,} raw)",
        "formats: " + _counts(docs["format"]) if "format" in docs else "formats: txt",
        "encodings: " + _counts(encodings),
        "block kinds: " + _counts(kinds),
        "repairs: " + _counts(repairs),
    ]
    if "is_traditional" in docs and docs["is_traditional"].any():
        traditional = docs.loc[docs["is_traditional"], "doc_id"]
        lines.append(f"traditional characters: {len(traditional)} "
                     f"({', '.join(map(str, traditional[:10]))}"
                     f"{', …' if len(traditional) > 10 else ''}); "
                     f"converted to simplified: {int(docs['converted'].sum())}")
    skipped = clean.skipped if clean.skipped is not None else []
    lines.append(f"files skipped: {len(skipped)}")
    lines.extend(f"  {row.path}: {row.reason}" for row in getattr(skipped, "itertuples", list)())
    return "\n".join(lines)


def cmd_ingest(args: argparse.Namespace) -> int:
    from textmine.tables import write_table

    _, clean = _load(args, args.paths)
    out = Path(args.out)
    tables = {"documents": clean.documents, "blocks": clean.blocks,
              "sentences": clean.sentences, "ledger": clean.ledger}
    if clean.skipped is not None:
        tables["skipped"] = clean.skipped
    for name, df in tables.items():
        for ext in ("parquet", "csv"):
            write_table(df, out / f"{name}.{ext}")
    print(_summary(clean))
    print(f"tables written to {out}/ (Parquet and CSV)")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    import warnings

    from textmine.clean import clean_text
    from textmine.corpus import SkippedFilesWarning, load_corpus

    with warnings.catch_warnings():  # the reason is the error message below
        warnings.simplefilter("ignore", SkippedFilesWarning)
        corpus = load_corpus([Path(args.file)])
    if len(corpus) == 0:
        reason = corpus.skipped["reason"].iloc[0] if len(corpus.skipped) else "unreadable"
        raise SystemExit(f"textmine: {args.file}: {reason}")
    doc = clean_text(corpus.documents["text"].iloc[0])
    for block in doc.blocks.itertuples():
        print(f"[{block.kind}] {block.text}")
    return 0


def cmd_quantities(args: argparse.Namespace) -> int:
    """Write the figures table (textmine.quantities) of the files, folders or standard input."""
    from textmine.quantities import extract_quantities
    from textmine.tables import write_table

    if args.paths == ["-"]:
        from textmine.clean import clean_corpus
        from textmine.corpus import Corpus

        corpus = Corpus.from_texts({"stdin": sys.stdin.read()})
        clean = clean_corpus(corpus, n_jobs=args.jobs, scheduler=args.scheduler)
    else:
        _, clean = _load(args, args.paths)
    table = extract_quantities(clean, n_jobs=args.jobs, scheduler=args.scheduler,
                               quiet=args.quiet)
    write_table(table, args.out, args.format)
    return 0


def _table_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"], default=None,
                   help="output format (default: from --out's extension, else csv)")
    p.add_argument("--out", default=None, metavar="FILE", help="output file (default: stdout)")


def _load_paths_or_stdin(args: argparse.Namespace):
    if args.paths == ["-"]:
        from textmine.clean import clean_corpus
        from textmine.corpus import Corpus

        corpus = Corpus.from_texts({"stdin": sys.stdin.read()})
        return clean_corpus(corpus, n_jobs=args.jobs, scheduler=args.scheduler)
    return _load(args, args.paths)[1]


def cmd_formulations(args: argparse.Namespace) -> int:
    """Write the formulations table (textmine.formulations) of the files, folders or stdin."""
    from textmine.formulations import extract_formulations
    from textmine.tables import format_for, write_table

    table = extract_formulations(_load_paths_or_stdin(args), include_quotes=args.include_quotes)
    fmt = args.format or (format_for(args.out) if args.out and args.out != "-" else "csv")
    if fmt == "csv":  # CSV has no lists: members joined with 、
        table = table.assign(members=table["members"].map("、".join))
    write_table(table, args.out, fmt)
    return 0


def cmd_emergence(args: argparse.Namespace) -> int:
    """Write the emergence table (textmine.emergence): terms by the first group having them."""
    from textmine.emergence import emergence
    from textmine.tables import write_table

    clean = _load_paths_or_stdin(args)
    if args.by not in clean.documents and args.by != "year":
        raise SystemExit(f"textmine: no metadata column {args.by!r}; columns: "
                         f"{', '.join(map(str, clean.documents.columns))}")
    table = emergence(clean, by=args.by, groups=clean.documents, min_groups=args.min_groups,
                      include_first_group=args.include_first_group, max_ngram=args.max_ngram)
    write_table(table, args.out, args.format)
    return 0


def cmd_kwic(args: argparse.Namespace) -> int:
    """Write the concordance (textmine.concordance) of PATTERN in the files, folders or stdin."""
    from textmine.concordance import kwic
    from textmine.tables import write_table

    try:
        table = kwic(_load_paths_or_stdin(args), args.pattern, regex=args.regex,
                     window=args.window, unit=args.unit, cut_at_sentence=args.cut_at_sentence)
    except ValueError as err:
        raise SystemExit(f"textmine: {err}") from None
    write_table(table, args.out, args.format)
    return 0


def _segment_tokenizer(args: argparse.Namespace, config, paths: Sequence[str]):
    """The tokenizer of the config, the corpus folder's userdict/stopwords and the options."""
    from textmine.segment import Tokenizer

    targets = [Path(p) for p in paths] or [Path("corpus")]
    root = targets[0] if len(targets) == 1 and targets[0].is_dir() else None
    tok = Tokenizer.from_config(config, corpus_root=root)
    extra_dicts = tuple(getattr(args, "userdict", None) or ())
    extra_stops = tuple(getattr(args, "stopwords", None) or ())
    if extra_dicts or extra_stops:
        tok = Tokenizer(userdicts=tok.userdicts + extra_dicts,
                        stopwords=tok.stopwords + extra_stops)
    return tok


def _tokens_of(args: argparse.Namespace) -> pd.DataFrame:
    """The tokens table of the files or folders, with the options of `textmine tokens`."""
    from textmine.segment import tokenize

    config, clean = _load(args, args.paths)
    tok = _segment_tokenizer(args, config, args.paths)
    kinds = None if args.kinds == "all" else tuple(k for k in args.kinds.split(",") if k)
    use_cache = config.use_cache and not args.no_cache
    table = tokenize(clean, tok, kinds=kinds, cache_dir=args.cache_dir or config.cache_dir,
                     use_cache=use_cache, n_jobs=args.jobs, scheduler=args.scheduler,
                     quiet=args.quiet)
    if not args.quiet:
        stats = table.attrs.get("cache", {})
        print(f"tokens: {len(table):,} in {table['doc_id'].nunique()} documents; cache "
              f"{stats.get('hits', 0)} hits, {stats.get('misses', 0)} computed", file=sys.stderr)
    return table


def cmd_tokens(args: argparse.Namespace) -> int:
    """Write the tokens table (textmine.segment.tokenize) of the files or folders."""
    from textmine.tables import write_table

    write_table(_tokens_of(args), args.out, args.format)
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    """Write the people, places and organisations (textmine.segment.entities) of the files."""
    from textmine.segment import entities
    from textmine.tables import write_table

    classes = tuple(c for c in args.classes.split(",") if c)
    unknown = sorted(set(classes) - {"person", "place", "organisation"})
    if unknown:
        raise SystemExit(f"textmine entities: unknown class {', '.join(unknown)} "
                         "(person, place, organisation)")
    write_table(entities(_tokens_of(args), classes=classes), args.out, args.format)
    return 0


def cmd_lexicon_check(args: argparse.Namespace) -> int:
    """Print how each TERM segments and which lexicon entry decides it."""
    from textmine.config import load_config
    from textmine.segment import lexicon_check

    config = load_config(args.config)
    tok = _segment_tokenizer(args, config, [args.corpus])
    table = lexicon_check(args.terms, tok)
    for row in table.itertuples():
        verdict = "single" if row.single else "split "
        print(f"{row.term}\t{verdict}\t{row.tokens}\t{row.pos}\t{row.decided_by}")
    return 0


def cmd_pipeline(args: argparse.Namespace) -> int:
    """Run every stage in one pass a document (textmine.pipeline); tables into --out."""
    from textmine.cache import Cache
    from textmine.config import load_config
    from textmine.pipeline import run_pipeline

    config = load_config(args.config)
    paths = args.paths or ["corpus"]
    # files and folders are read one file at a time as the documents are processed
    corpus: Path | list[Path] = [Path(p) for p in paths] if len(paths) > 1 else Path(paths[0])
    if isinstance(corpus, Path) and not corpus.exists():
        raise SystemExit(f"textmine: {corpus}: no such file or folder")
    cache = Cache(args.cache_dir or config.cache_dir,
                  enabled=config.use_cache and not args.no_cache)
    ks = args.topics_k or None
    result = run_pipeline(corpus, args.out, config=config, n_jobs=args.jobs,
                          scheduler=args.scheduler, cache=cache, quiet=args.quiet,
                          topics=not args.no_topics, topic_k=ks, topic_method=args.topic_method,
                          topic_seeds=() if args.no_stability else (1, 2, 3))
    if result.skipped is not None:
        for row in result.skipped.itertuples():
            print(f"skipped {row.path}: {row.reason}", file=sys.stderr)
    if not args.quiet:
        state = "up to date" if result.up_to_date else (
            f"{result.computed} computed, {result.cached} from the cache")
        print(f"pipeline: {result.n_documents} documents ({state}) in "
              f"{result.timings.get('total', 0):.1f} s; tables in {result.out}", file=sys.stderr)
    return 0


def _theme_matrix(args: argparse.Namespace, unit: str, **options):
    """Load, clean and tokenize the corpus of the command line; its document-feature matrix."""
    from textmine.dfm import build_dfm
    from textmine.segment import tokenize

    config, clean = _load(args, args.paths)
    tokens = tokenize(clean, _segment_tokenizer(args, config, args.paths), n_jobs=args.jobs,
                      scheduler=args.scheduler, quiet=args.quiet,
                      cache_dir=config.cache_dir, use_cache=config.use_cache)
    if getattr(args, "pos_keep", None):
        options["pos_keep"] = tuple(t for t in args.pos_keep.split(",") if t)
    try:
        dfm = build_dfm(tokens, unit=unit, sentences=clean.sentences, documents=clean.documents,
                        **options)
    except ValueError as err:
        raise SystemExit(f"textmine: {err}") from None
    return config, clean, tokens, dfm


def _check_column(dfm, column: str | None) -> None:
    if column is not None and column not in dfm.units.columns:
        raise SystemExit(f"textmine: no metadata column {column!r}; columns: "
                         f"{', '.join(map(str, dfm.units.columns))}")


def cmd_keywords(args: argparse.Namespace) -> int:
    """Write the keywords table (textmine.keywords): group, term, score, rank, n."""
    from textmine.keywords import keywords
    from textmine.tables import write_table

    _, _, _, dfm = _theme_matrix(args, args.unit)
    _check_column(dfm, args.by)
    table = keywords(dfm, method=args.method, by=args.by, top_n=args.top, idf=args.idf)
    write_table(table, args.out, args.format)
    return 0


def cmd_keyness(args: argparse.Namespace) -> int:
    """Write the keyness table (textmine.keyness) of --target against --reference."""
    from textmine.keyness import keyness
    from textmine.tables import write_table

    _, _, _, dfm = _theme_matrix(args, "document")
    _check_column(dfm, args.by)
    try:
        table = keyness(dfm, args.target, by=args.by, reference=args.reference,
                        measure=args.measure, correction=args.correction,
                        min_count=args.min_count)
    except (ValueError, KeyError) as err:
        raise SystemExit(f"textmine: {err}") from None
    write_table(table.head(args.top) if args.top else table, args.out, args.format)
    return 0


def cmd_collocations(args: argparse.Namespace) -> int:
    """Write the collocations table (textmine.collocations): bigrams and trigrams by G²/PMI."""
    from textmine.collocations import collocations
    from textmine.segment import tokenize
    from textmine.tables import write_table

    config, clean = _load(args, args.paths)
    tokens = tokenize(clean, _segment_tokenizer(args, config, args.paths), n_jobs=args.jobs,
                      scheduler=args.scheduler, quiet=args.quiet,
                      cache_dir=config.cache_dir, use_cache=config.use_cache)
    sizes = tuple(int(v) for v in args.sizes.split(",") if v)
    try:
        table = collocations(tokens, sizes=sizes, min_count=args.min_count, sort_by=args.sort_by)
    except ValueError as err:
        raise SystemExit(f"textmine: {err}") from None
    write_table(table.head(args.top) if args.top else table, args.out, args.format)
    return 0


def _topic_ks(text: str | None, default: tuple[int, int]) -> list[int]:
    """'8' → [8]; '3-12' → 3…12; '5,10,15' → those; None → the config's range."""
    if not text:
        return list(range(default[0], default[1] + 1))
    try:
        if "-" in text:
            low, high = (int(v) for v in text.split("-", 1))
            return list(range(low, high + 1))
        return [int(v) for v in text.split(",") if v]
    except ValueError:
        raise SystemExit(f"textmine: --k {text!r}: give N, LOW-HIGH or N1,N2,…") from None


def cmd_topics(args: argparse.Namespace) -> int:
    """Write topic_terms (textmine.topics); --doc-topics, --selection, --prevalence add tables."""
    from textmine.segment import tokenize
    from textmine.tables import write_table
    from textmine.topics import fit_topics, topic_dfm

    config, clean = _load(args, args.paths)
    tokens = tokenize(clean, _segment_tokenizer(args, config, args.paths), n_jobs=args.jobs,
                      scheduler=args.scheduler, quiet=args.quiet,
                      cache_dir=config.cache_dir, use_cache=config.use_cache)
    seed = config.random_state if args.seed is None else args.seed
    seeds = tuple(int(v) for v in args.seeds.split(",") if v)
    try:
        dfm = topic_dfm(tokens, sentences=clean.sentences, documents=clean.documents,
                        unit=args.unit)
        if args.prevalence_by:
            _check_column(dfm, args.prevalence_by)
        model = fit_topics(dfm, method=args.method, k=_topic_ks(args.k, config.topic_range),
                           random_state=seed, seeds=seeds)
    except ValueError as err:
        raise SystemExit(f"textmine: {err}") from None
    write_table(model.topic_terms, args.out, args.format)
    if args.doc_topics:
        write_table(model.doc_topics, args.doc_topics)
    if args.selection:
        write_table(model.selection, args.selection)
    if args.prevalence_by:
        write_table(model.prevalence(args.prevalence_by), args.prevalence)
    if not args.quiet:
        print(f"topics: k={model.k} chosen by coherence and stability from "
              f"{', '.join(map(str, model.selection['k']))}", file=sys.stderr)
        for row in model.labels.itertuples():
            print(f"  {row.topic:3d}  {row.label}  (NPMI {row.coherence:.2f})", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: tables, every notebook executed headless, figures, the HTML report."""
    from textmine.notebooks import run_main_job

    results = run_main_job(args.corpus, config=args.config, build=args.build,
                           figures=args.figures, notebooks=args.notebooks, jobs=args.jobs,
                           quiet=args.quiet)
    failed = [r for r in results if not r.ok]
    print(f"notebooks: {len(results) - len(failed)} of {len(results)} ran; figures and "
          f"MANIFEST.json in {args.figures}/, report in {Path(args.build) / 'report.html'}")
    for r in failed:
        print(f"FAILED {r}", file=sys.stderr)
    return 1 if failed else 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Rerun everything and list each figure or table whose bytes differ from the manifest."""
    from textmine.provenance import verify

    report = verify(args.manifest, jobs=args.jobs, quiet=args.quiet)
    for failure in report.failures:
        print(f"notebook failed: {failure}")
    for difference in report.differences:
        print(difference)
    verdict = "OK" if report.ok else "DIFFERENT"
    print(f"verify: {verdict} — {report.checked} files compared with {args.manifest}, "
          f"{len(report.differences)} differ, {len(report.failures)} notebooks failed")
    return 0 if report.ok else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check Python, the locked libraries, the CJK font, jieba and the cache; say what to fix."""
    from textmine.config import load_config
    from textmine.doctor import diagnose, report

    cache_dir = args.cache_dir or (load_config(args.config).cache_dir if args.config else None)
    table = diagnose(lock=args.lock, cache_dir=cache_dir)
    print(report(table))
    return 1 if (table["status"] == "fail").any() else 0


def _tokens_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that tokenize: paths, block kinds, lexicons, cache."""
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--kinds", default="subheading,paragraph", metavar="K1,K2|all",
                   help="block kinds to tokenize (default: subheading,paragraph; all: every "
                   "block)")
    p.add_argument("--userdict", action="append", metavar="FILE",
                   help="extra lexicon in jieba's format (repeatable)")
    p.add_argument("--stopwords", action="append", metavar="FILE",
                   help="extra stopword file, one word a line (repeatable)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="token cache folder (default: $TEXTMINE_CACHE_DIR or the user cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    _table_options(p)
    _add_common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textmine", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"textmine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="the main job: process corpus/ and write all outputs",
                       description="Ingest and clean the corpus, write the tables to "
                       "BUILD/tables, execute every notebook headless (executed copies in "
                       "BUILD/notebooks), export the figures with figures/MANIFEST.json and "
                       "write BUILD/report.html.")
    p.add_argument("corpus", nargs="?", default="corpus", help="corpus folder (default: corpus)")
    p.add_argument("--build", default="build",
                   help="folder for tables, executed notebooks and report.html (default: build)")
    p.add_argument("--figures", default="figures",
                   help="folder for the figures and MANIFEST.json (default: figures)")
    p.add_argument("--notebooks", default="notebooks",
                   help="folder of the notebook collection (default: notebooks)")
    _add_common(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("verify", help="rerun everything; list figures/tables that differ",
                       description="Rerun the main job in a scratch folder on the corpus and "
                       "config the manifest names, and list every figure or table whose bytes "
                       "differ from figures/MANIFEST.json (or from the committed files); exit 1 "
                       "when one does.")
    p.add_argument("--manifest", default="figures/MANIFEST.json",
                   help="manifest to check (default: figures/MANIFEST.json)")
    _add_common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("ingest", help="load and clean files; write documents, blocks, sentences",
                       description="Load a folder (recursively) or files, clean them and write "
                       "the documents, blocks, sentences, ledger and skipped tables as Parquet and "
                       "CSV, then print a summary. Files that cannot be read are listed with the "
                       "reason; the command fails only when no file could be read.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders (default: corpus); .txt/.md in UTF-8, UTF-16, GBK/"
                   "GB18030 or Big5, .docx, .pdf with a text layer, .html")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the tables")
    p.add_argument("--to-simplified", action="store_true",
                   help="convert traditional characters to simplified (OpenCC); the original "
                   "text stays in the documents table's original_text column")
    _add_common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("clean", help="print one file's cleaned text with its block kinds",
                       description="Print the cleaned text of FILE, one block a line, each "
                       "prefixed with its kind, for a quick look.")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("quantities", help="figures table: value, unit, qualifier, measure, time",
                       description="Extract every quantity (2278人, 40余万元, 5%左右 …) of the "
                       "files, folders or standard input (-) as a table, one row a figure.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders, or - for standard input (default: corpus)")
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"], default=None,
                   help="output format (default: from --out's extension, else csv)")
    p.add_argument("--out", default=None, metavar="FILE", help="output file (default: stdout)")
    _add_common(p)
    p.set_defaults(func=cmd_quantities)
    p = sub.add_parser("formulations", help="policy formulations: numbered, coinages, slogans",
                       description="Find the formulations (提法) of the files, folders or "
                       "standard input (-): numbered ones (四个一批), quoted coinages "
                       "(“红色楼委会”) and slogan lists (“万人下乡、千村提升”), "
                       "with their members; one row an occurrence. "
                       "In CSV the members are joined with 、.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders, or - for standard input (default: corpus)")
    p.add_argument("--include-quotes", action="store_true",
                   help="also list quotations that are not formulations (kind quote)")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_formulations)

    p = sub.add_parser("emergence", help="terms and formulations by the group first using them",
                       description="For each group (a metadata column; a year in the file name "
                       "when there is no metadata.csv), the terms and formulations that appear "
                       "there first in the corpus and recur later.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders, or - for standard input (default: corpus)")
    p.add_argument("--by", default="year", metavar="COLUMN", help="group column (default: year)")
    p.add_argument("--min-groups", type=int, default=2, metavar="N",
                   help="keep terms found in at least N groups (default 2: they recur)")
    p.add_argument("--max-ngram", type=int, default=1, metavar="N",
                   help="also date runs of up to N content words (新+常态; default 1)")
    p.add_argument("--include-first-group", action="store_true",
                   help="also list terms of the earliest group")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_emergence)

    p = sub.add_parser("kwic", help="a term, phrase or regex in context (concordance)",
                       description="Every match of PATTERN with its left and right context, "
                       "its document, sentence and offsets in the cleaned text.")
    p.add_argument("pattern", metavar="PATTERN", help="a phrase (or a regex with --regex)")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders, or - for standard input (default: corpus)")
    p.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    p.add_argument("--window", type=int, default=20, metavar="N",
                   help="context on each side (default 20)")
    p.add_argument("--unit", choices=["char", "token"], default="char",
                   help="count the context in characters or tokens (default char)")
    p.add_argument("--cut-at-sentence", action="store_true",
                   help="stop the context at the sentence's edges")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_kwic)

    p = sub.add_parser("tokens", help="tokens table: token, POS, offsets, stopword flag",
                       description="Segment the analysed sentences with jieba, the bundled "
                       "governance lexicon and corpus/userdict.txt; quantities, dates and "
                       "formulations stay single tokens. Columns: doc_id, sent_id, token_id, "
                       "token, pos, start, end, is_stop (offsets into the cleaned text).")
    _tokens_options(p)
    p.set_defaults(func=cmd_tokens)

    p = sub.add_parser("entities", help="people, places and organisations, counted",
                       description="The tokens that name a person, a place or an "
                       "organisation, and how often each document names them. Columns: "
                       "doc_id, token, entity_class, count.")
    _tokens_options(p)
    p.add_argument("--classes", default="person,place,organisation", metavar="C1,C2",
                   help="entity classes to keep (default: person,place,organisation)")
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("keywords", help="keywords per document or group: TF-IDF or TextRank",
                       description="Keywords of each document (or each group of a metadata "
                       "column, --by year) by TF-IDF (IDF fitted on the corpus; jieba's general "
                       "IDF for fewer than 10 units) or TextRank. Columns: group, term, score, "
                       "rank, n.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--by", metavar="COLUMN", help="group by this metadata column (default: "
                   "each document)")
    p.add_argument("--method", choices=["tfidf", "textrank"], default="tfidf")
    p.add_argument("--top", type=int, default=20, metavar="N", help="terms per group (20)")
    p.add_argument("--unit", choices=["document", "paragraph", "sentence"], default="document",
                   help="rows of the matrix the IDF is fitted on (default document)")
    p.add_argument("--idf", choices=["auto", "corpus", "jieba"], default="auto")
    p.add_argument("--pos-keep", metavar="TAGS", help="keep only these POS prefixes (n,v,nz…)")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_keywords)

    p = sub.add_parser("keyness", help="terms distinguishing a target group from a reference",
                       description="Keyness as quanteda's textstat_keyness: each term's G² "
                       "(Williams-corrected) and χ² (Yates) for --target against --reference "
                       "(default: all other documents), signed (negative: more frequent in the "
                       "reference), with the log ratio and raw counts.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--by", default="year", metavar="COLUMN",
                   help="metadata column whose values --target/--reference name (default year)")
    p.add_argument("--target", nargs="+", required=True, metavar="VALUE")
    p.add_argument("--reference", nargs="+", metavar="VALUE",
                   help="reference values (default: every other document)")
    p.add_argument("--measure", choices=["g2", "chi2"], default="g2",
                   help="statistic to sort by and give p for (default g2)")
    p.add_argument("--correction", choices=["default", "williams", "yates", "none"],
                   default="default")
    p.add_argument("--min-count", type=int, default=1, metavar="N")
    p.add_argument("--top", type=int, default=None, metavar="N", help="only the first N rows")
    p.add_argument("--pos-keep", metavar="TAGS", help="keep only these POS prefixes (n,v,nz…)")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_keyness)

    p = sub.add_parser("collocations", help="bigrams and trigrams ranked by G² and PMI",
                       description="Adjacent token sequences within sentences (no punctuation "
                       "or stopword inside) seen at least --min-count times, with PMI and G². "
                       "Columns: collocation, tokens, length, n, pmi, g2.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--min-count", type=int, default=3, metavar="N")
    p.add_argument("--sizes", default="2,3", metavar="2,3", help="sequence lengths (2,3)")
    p.add_argument("--sort-by", choices=["g2", "pmi", "n"], default="g2")
    p.add_argument("--top", type=int, default=None, metavar="N", help="only the first N rows")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_collocations)

    p = sub.add_parser("topics", help="topic model (NMF/LDA) with k chosen by coherence",
                       description="Fit NMF or LDA topic models by paragraph for each k, choose "
                       "k by NPMI coherence and stability across seeds, and write topic_terms "
                       "(topic, term, weight, rank). The topic labels go to standard error.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--method", choices=["nmf", "lda"], default="nmf")
    p.add_argument("--k", metavar="N|LOW-HIGH|N1,N2",
                   help="numbers of topics to try (default: the config's topic_range, 3-12)")
    p.add_argument("--seed", type=int, default=None, help="random_state (default: config's)")
    p.add_argument("--seeds", default="1,2,3", metavar="S1,S2",
                   help="subsampling seeds for stability ('' to skip; default 1,2,3)")
    p.add_argument("--unit", choices=["paragraph", "document", "sentence"], default="paragraph")
    p.add_argument("--doc-topics", metavar="FILE", help="also write doc_topics (unit, topic, "
                   "weight)")
    p.add_argument("--selection", metavar="FILE", help="also write the model-selection curve "
                   "(k, coherence, stability, chosen)")
    p.add_argument("--prevalence-by", metavar="COLUMN",
                   help="also write topic prevalence by this metadata column (to --prevalence)")
    p.add_argument("--prevalence", metavar="FILE", default=None,
                   help="file for the prevalence table (default: stdout after topic_terms)")
    _table_options(p)
    _add_common(p)
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("pipeline", help="every stage in one pass a document, into Parquet files",
                       description="Clean, tokenize, quantities and formulations in one pass "
                       "a document (process pool with --jobs, Dask with --scheduler), cached per "
                       "document; then the document-feature matrices, IDF and topics merged "
                       "from per-document counts. Writes OUT/documents, blocks, sentences, "
                       "ledger, tokens, quantities, formulations, idf, topic_terms, doc_topics, "
                       "topic_labels, topic_selection (.parquet), dfm_document / dfm_paragraph "
                       "(.npz + _units/_features) and manifest.json. A rerun on unchanged input "
                       "does nothing.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="corpus folder or files (default: corpus)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: the config's, "
                   "else $TEXTMINE_CACHE_DIR or the per-user cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--no-topics", action="store_true", help="skip the topic models")
    p.add_argument("--topics-k", type=int, nargs="+", metavar="K",
                   help="numbers of topics to try (default: the config's topic_range)")
    p.add_argument("--topic-method", choices=("nmf", "lda"), default="nmf")
    p.add_argument("--no-stability", action="store_true",
                   help="choose k by coherence alone (no refits on subsamples; faster)")
    _add_common(p)
    p.set_defaults(func=cmd_pipeline)

    p = sub.add_parser("doctor", help="check the environment and say what to fix",
                       description="Check the Python version, every library against "
                       "requirements.lock, the CJK font for figures, jieba's dictionary and "
                       "write access to the cache folder; print what to fix. Exits 1 when a "
                       "check fails.")
    p.add_argument("--lock", metavar="FILE",
                   help="lock file to compare with (default: the repository's requirements.lock)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="cache folder to check (default: the settings', $TEXTMINE_CACHE_DIR or "
                   "the per-user cache)")
    p.add_argument("--config", metavar="TOML", help="settings file (its cache_dir is checked)")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("lexicon", help="lexicon tools (lexicon check TERM…)",
                       description="Inspect the segmentation lexicons.")
    lex = p.add_subparsers(dest="lexicon_command", required=True, metavar="ACTION")
    q = lex.add_parser("check", help="how each term segments and which entry decides it",
                       description="For each TERM print: the term, single or split, its "
                       "tokens, their POS tags and, per token, the lexicon entry (file:line) "
                       "or rule that decides it (jieba dictionary, jieba HMM, protected span).")
    q.add_argument("terms", nargs="+", metavar="TERM")
    q.add_argument("--corpus", default="corpus", metavar="DIR",
                   help="corpus folder whose userdict.txt/stopwords.txt apply (default: corpus)")
    q.add_argument("--userdict", action="append", metavar="FILE",
                   help="extra lexicon in jieba's format (repeatable)")
    q.add_argument("--config", metavar="TOML", help="settings file (see textmine.config.Config)")
    q.set_defaults(func=cmd_lexicon_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
