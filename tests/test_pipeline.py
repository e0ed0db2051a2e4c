"""The one-pass pipeline: same tables as the stage functions, whatever the engine; cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textmine.cache import Cache
from textmine.clean import clean_corpus
from textmine.corpus import Corpus, load_corpus
from textmine.dfm import build_dfm
from textmine.formulations import extract_formulations
from textmine.pipeline import DOCUMENT_TABLES, load_clean_corpus, run_pipeline
from textmine.quantities import extract_quantities
from textmine.segment import Tokenizer, tokenize
from textmine.topics import TOPIC_POS

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"
YEARS = (1954, 1980, 2000, 2025)
COMPARED = ("tokens", "quantities", "formulations", "sentences", "blocks", "documents")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    folder = SHARED / "gov-work-reports-national"
    if not folder.is_dir():
        pytest.skip("../shared/corpora not available")
    return load_corpus([folder / f"{year}.txt" for year in YEARS])


@pytest.fixture(scope="module")
def serial(corpus, tmp_path_factory):
    """A serial run (topics off: they are tested on their own) with a fresh cache."""
    base = tmp_path_factory.mktemp("serial")
    cache = Cache(base / "cache")
    result = run_pipeline(corpus, base / "out", cache=cache, quiet=True, topics=False)
    return result, cache


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in COMPARED}


def _assert_same_outputs(a: Path, b: Path) -> None:
    left, right = _tables(a), _tables(b)
    for name in COMPARED:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)
    for unit in ("document", "paragraph"):
        npz_a = np.load(a / f"dfm_{unit}.npz")
        npz_b = np.load(b / f"dfm_{unit}.npz")
        for key in npz_a.files:
            np.testing.assert_array_equal(npz_a[key], npz_b[key])


def _values(df: pd.DataFrame) -> pd.DataFrame:
    """Compare by value: the stage functions and Parquet may pick different string dtypes."""
    return df.reset_index(drop=True).astype(object).where(df.notna().to_numpy(), None)


def test_tables_equal_the_stage_functions(corpus, serial):
    result, _ = serial
    clean = clean_corpus(corpus)
    assert result.n_documents == len(YEARS) and result.computed == len(YEARS)
    tables = _tables(result.out)
    tokens = tokenize(clean, Tokenizer(), use_cache=False)
    pd.testing.assert_frame_equal(_values(tables["tokens"]), _values(tokens))
    quantities = extract_quantities(clean)
    assert len(quantities) > 100
    pd.testing.assert_frame_equal(_values(tables["quantities"]), _values(quantities))
    formulations = extract_formulations(clean)
    assert len(formulations) > 10
    got = tables["formulations"]
    assert got["number"].dtype == "Int64"
    got = got.assign(members=got["members"].map(list))
    pd.testing.assert_frame_equal(_values(got), _values(formulations))
    pd.testing.assert_frame_equal(_values(tables["sentences"]), _values(clean.sentences))
    pd.testing.assert_frame_equal(_values(tables["blocks"][list(clean.blocks.columns)]),
                                  _values(clean.blocks))
    docs = tables["documents"]
    assert docs["text"].tolist() == clean.documents["text"].tolist()
    assert docs["title"].tolist() == clean.documents["title"].tolist()
    # the cleaned corpus can be read back from the folder for the later analyses
    back = load_clean_corpus(result.out)
    assert back.texts() == clean.texts()


def test_merged_counts_equal_build_dfm(corpus, serial):
    """The matrices merged from per-document counts equal build_dfm on the tokens table."""
    result, _ = serial
    tokens = pd.read_parquet(result.out / "tokens.parquet")
    whole = build_dfm(tokens)
    merged = result.dfm("document")
    assert list(merged.features) == list(whole.features)
    assert (merged.counts != whole.counts).nnz == 0
    assert merged.units["unit"].tolist() == whole.units["unit"].tolist()
    sentences = pd.read_parquet(result.out / "sentences.parquet")
    paragraphs = build_dfm(tokens, unit="paragraph", sentences=sentences, pos_keep=TOPIC_POS,
                           min_df=2, max_df=0.2)
    merged = result.dfm("paragraph")
    assert merged.shape == paragraphs.shape and merged.shape[0] > 100
    assert list(merged.features) == list(paragraphs.features)
    assert (merged.counts != paragraphs.counts).nnz == 0
    idf = pd.read_parquet(result.out / "idf.parquet")
    assert len(idf) == whole.shape[1] and (idf["df"] >= 1).all()


def test_pool_and_dask_equal_serial(corpus, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    result, _ = serial
    off = Cache(tmp_path / "unused", enabled=False)
    pooled = run_pipeline(corpus, tmp_path / "pool", n_jobs=2, cache=off, quiet=True,
                          topics=False)
    assert pooled.computed == len(YEARS)
    _assert_same_outputs(result.out, pooled.out)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = run_pipeline(corpus, tmp_path / "dask", scheduler=client, cache=off,
                               quiet=True, topics=False)
    assert on_dask.computed == len(YEARS)
    _assert_same_outputs(result.out, on_dask.out)


def _cold(corpus, tmp_path):
    """A cold run with its own cache (cache keys include the code of every stage, so a cache
    filled at the start of a session would not survive an edit made meanwhile)."""
    cache = Cache(tmp_path / "cache")
    return run_pipeline(corpus, tmp_path / "cold", cache=cache, quiet=True, topics=False), cache


def test_warm_rerun_hits_the_cache_for_every_document(corpus, tmp_path):
    result, cache = _cold(corpus, tmp_path)
    assert (result.computed, result.cached) == (len(YEARS), 0)
    again = run_pipeline(corpus, tmp_path / "again", cache=cache, quiet=True, topics=False)
    assert (again.computed, again.cached) == (0, len(YEARS))
    assert not again.corpus_steps  # same documents and settings: matrices copied from the cache
    _assert_same_outputs(result.out, again.out)
    # into the folder it already wrote: nothing to do at all
    same = run_pipeline(corpus, again.out, cache=cache, quiet=True, topics=False)
    assert same.up_to_date and same.computed == 0


def test_changing_one_document_recomputes_only_it(corpus, tmp_path):
    _, cache = _cold(corpus, tmp_path)
    changed = corpus.documents.copy()
    target = changed.index[1]
    text = changed.loc[target, "text"]
    middle = text.index("\n", len(text) // 2)  # a paragraph break in the body of the report
    changed.loc[target, "text"] = text[:middle] + "\n今年新增就业1200万人以上。" + text[middle:]
    edited = Corpus(changed)
    rerun = run_pipeline(edited, tmp_path / "edited", cache=cache, quiet=True, topics=False)
    assert (rerun.computed, rerun.cached) == (1, len(YEARS) - 1)
    assert rerun.corpus_steps  # the corpus-wide steps are redone
    fresh = run_pipeline(edited, tmp_path / "fresh", cache=Cache(tmp_path / "c2"), quiet=True,
                         topics=False)
    assert fresh.computed == len(YEARS)
    _assert_same_outputs(rerun.out, fresh.out)
    quantities = pd.read_parquet(rerun.out / "quantities.parquet")
    doc = changed.loc[target, "doc_id"]
    added = quantities[(quantities["doc_id"] == doc) & (quantities["surface"] == "1200万人以上")]
    assert len(added) >= 1


class _FailingTokenizer(Tokenizer):
    """Fails on one document, to interrupt a run half-way."""

    def tokenize_document(self, text, sentences, **options):
        if "停电检修" in text:
            raise RuntimeError("simulated crash")
        return super().tokenize_document(text, sentences, **options)


def test_outputs_are_replaced_atomically(corpus, serial, tmp_path):
    result, _ = serial
    out = tmp_path / "out"
    run_pipeline(corpus, out, cache=Cache(tmp_path / "c", enabled=False), quiet=True,
                 topics=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    texts = dict(zip(corpus.documents["doc_id"], corpus.documents["text"], strict=True))
    texts["zz-broken"] = "第一段。\n\n计划停电检修两天。"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_pipeline(texts, out, tokenizer=_FailingTokenizer(),
                     cache=Cache(tmp_path / "c", enabled=False), quiet=True, topics=False)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # old tables whole, no temporary file left behind
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(f"{t}.parquet" for t in DOCUMENT_TABLES) <= set(manifest["files"])


def test_folder_rerun_is_up_to_date_until_a_file_changes(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("乡村振兴取得新进展。\n\n全年粮食产量1.3万亿斤。",
                                  encoding="utf-8")
    (folder / "b.txt").write_text("党建引领基层治理。\n\n新增网格员2278人。", encoding="utf-8")
    cache = Cache(tmp_path / "cache")
    first = run_pipeline(folder, tmp_path / "out", cache=cache, quiet=True, topics=False)
    assert (first.computed, first.up_to_date) == (2, False)
    second = run_pipeline(folder, tmp_path / "out", cache=cache, quiet=True, topics=False)
    assert second.up_to_date and second.computed == 0
    (folder / "b.txt").write_text("党建引领基层治理。\n\n新增网格员3000人。", encoding="utf-8")
    third = run_pipeline(folder, tmp_path / "out", cache=cache, quiet=True, topics=False)
    assert (third.computed, third.cached) == (1, 1)
    surfaces = pd.read_parquet(tmp_path / "out" / "quantities.parquet")["surface"].tolist()
    assert "3000人" in surfaces and "2278人" not in surfaces


def test_topics_from_the_merged_paragraph_matrix(corpus, tmp_path):
    result = run_pipeline(corpus, tmp_path / "out", cache=Cache(tmp_path / "c"), quiet=True,
                          topic_k=[4], topic_seeds=())
    terms = result.read("topic_terms")
    assert sorted(terms["topic"].unique()) == [1, 2, 3, 4]
    doc_topics = result.read("doc_topics")
    units = result.dfm("paragraph").units["unit"]
    assert set(doc_topics["unit"]) == set(units)
    sums = doc_topics.groupby("unit")["weight"].sum()
    assert np.allclose(sums[sums > 0], 1.0)


def test_command_line(tmp_path, capsys):
    from textmine.cli import main

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "2024.txt").write_text("政府工作报告\n\n城镇新增就业1256万人。\n\n推进“四个一批”。",
                                     encoding="utf-8")
    args = ["pipeline", str(folder), "--out", str(tmp_path / "out"), "--no-topics",
            "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    assert "1 computed" in capsys.readouterr().err
    quantities = pd.read_parquet(tmp_path / "out" / "quantities.parquet")
    assert quantities["surface"].tolist() == ["1256万人"]
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().err


# --- streaming: a folder is read a file at a time, as the documents are finished ----------------

def _small_reports(folder: Path) -> list[Path]:
    """Forty-odd short reports cut from two national reports, with a metadata.csv (an integer
    and a text column) for some of them, so that the documents table carries metadata."""
    source = SHARED / "gov-work-reports-national"
    if not source.is_dir():
        pytest.skip("../shared/corpora not available")
    folder.mkdir()
    paragraphs = [p for year in (1980, 2019)
                  for p in (source / f"{year}.txt").read_text(encoding="utf-8").split("\n")
                  if len(p) > 40]
    files = []
    for n in range(44):
        path = folder / f"r{n:03d}.txt"
        path.write_text("\n\n".join(paragraphs[n * 3:n * 3 + 3]), encoding="utf-8")
        files.append(path)
    rows = "".join(f"r{n:03d}.txt,{n % 7},编辑{n}\n" for n in range(0, 44, 3))
    (folder / "metadata.csv").write_text("file,volume,editor\n" + rows, encoding="utf-8")
    return files


def _count_reads(monkeypatch) -> tuple[list[str], list[int], list[int]]:
    """Record each file the pipeline reads, each batch of documents it finishes, and at every
    read how many documents have been read but not finished."""
    import textmine.corpus
    import textmine.pipeline as pipeline

    reads: list[str] = []
    finished: list[int] = []
    ahead: list[int] = []
    read_document = textmine.corpus.read_document

    def counting_read(path, **options):
        reads.append(Path(path).name)
        ahead.append(len(reads) - sum(finished))
        return read_document(path, **options)

    write = pipeline._FieldSpool.write

    def counting_write(self, fields):
        finished.append(len(fields))
        return write(self, fields)

    monkeypatch.setattr(textmine.corpus, "read_document", counting_read)
    monkeypatch.setattr(pipeline._FieldSpool, "write", counting_write)
    return reads, finished, ahead


def test_folder_is_read_lazily_and_gives_the_tables_of_the_loaded_corpus(tmp_path, monkeypatch):
    """A folder is read one file at a time as batches are submitted: the reader is never more
    than a window of batches ahead of the documents finished; and the tables equal those of a
    run on the same corpus loaded whole (`load_corpus`)."""
    import textmine.pipeline as pipeline

    folder = tmp_path / "corpus"
    files = _small_reports(folder)
    eager = run_pipeline(load_corpus(folder), tmp_path / "eager",
                         cache=Cache(tmp_path / "c", enabled=False), quiet=True, topics=False)
    batch = 4
    monkeypatch.setattr(pipeline, "BATCH_DOCUMENTS", batch)
    reads, finished, ahead = _count_reads(monkeypatch)
    streamed = run_pipeline(folder, tmp_path / "streamed",
                            cache=Cache(tmp_path / "c", enabled=False), quiet=True, topics=False)
    assert sorted(reads) == sorted(p.name for p in files)  # each file read once
    assert sum(finished) == len(files) == streamed.n_documents
    # serial engine: a window of one batch; the reader is at most one batch ahead
    assert max(ahead) <= batch < len(files)
    _assert_same_outputs(eager.out, streamed.out)
    docs = pd.read_parquet(streamed.out / "documents.parquet")
    assert docs["volume"].dtype == "Int64" and docs["editor"].notna().all()
    assert docs["volume"].notna().sum() == 15
    pd.testing.assert_frame_equal(docs, pd.read_parquet(eager.out / "documents.parquet"))
    for name in ("dfm_document_units", "dfm_paragraph_units", "idf"):
        pd.testing.assert_frame_equal(pd.read_parquet(streamed.out / f"{name}.parquet"),
                                      pd.read_parquet(eager.out / f"{name}.parquet"))
    assert not [p.name for p in streamed.out.iterdir() if p.name.startswith(".")]


def test_pool_reads_no_more_than_its_window_ahead(tmp_path, monkeypatch):
    import textmine.pipeline as pipeline
    from textmine.parallel import Engine

    folder = tmp_path / "corpus"
    files = _small_reports(folder)
    monkeypatch.setattr(pipeline, "BATCH_DOCUMENTS", 2)
    reads, finished, ahead = _count_reads(monkeypatch)
    with Engine(n_jobs=2) as engine:
        window = engine.window
    run_pipeline(folder, tmp_path / "out", n_jobs=2, cache=Cache(tmp_path / "c", enabled=False),
                 quiet=True, topics=False)
    assert sum(finished) == len(files)
    # the batches in flight plus the one being filled
    assert max(ahead) <= 2 * (window + 1) < len(files)


def test_count_merger_spills_and_builds_the_same_matrix(corpus, serial, tmp_path):
    """Counts kept in memory or spilled to a file, in small chunks: the same matrices."""
    from textmine.pipeline import CountMerger, DocumentStages, term_ids

    stages = DocumentStages()
    texts = list(corpus.documents["text"])
    results = [stages.process(f"d{i}", text) for i, text in enumerate(texts)]
    built = []
    for spill in (None, tmp_path):
        vocabulary: dict[str, int] = {}
        mergers = {u: CountMerger(u, vocabulary, spill=spill) for u in ("document", "paragraph")}
        for m in mergers.values():
            m.CHUNK_DOCUMENTS = 1  # one chunk a document
        ids = term_ids(vocabulary, [r.counts["terms"] for r in results])
        for r, doc_ids in zip(results, ids, strict=True):
            for unit, m in mergers.items():
                m.add(r.doc_id, r.counts[unit], doc_ids)
        built.append({u: m.to_dfm(min_df=2) for u, m in mergers.items()})
        if spill is not None:
            assert all(m.spill_path.stat().st_size > 0 for m in mergers.values())
            for m in mergers.values():
                m.close()
            assert not any(m.spill_path.exists() for m in mergers.values())
    for unit in ("document", "paragraph"):
        a, b = built[0][unit], built[1][unit]
        assert (a.counts != b.counts).nnz == 0 and list(a.features) == list(b.features)
        pd.testing.assert_frame_equal(a.units, b.units)
    whole = build_dfm(pd.read_parquet(serial[0].out / "tokens.parquet"), min_df=2)
    assert list(built[1]["document"].features) == list(whole.features)
    assert (built[1]["document"].counts != whole.counts).nnz == 0


def test_command_line_streams_several_paths(tmp_path, capsys):
    """`textmine pipeline A B`: files and folders read as they are processed, doc_ids relative
    to their common folder, an up-to-date rerun recognised without reading them."""
    from textmine.cli import main

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "2023.txt").write_text("政府工作报告\n\n粮食产量1.3万亿斤。",
                                             encoding="utf-8")
    (tmp_path / "y.txt").write_text("工作报告\n\n新增就业1200万人。", encoding="utf-8")
    args = ["pipeline", str(tmp_path / "x"), str(tmp_path / "y.txt"), "--out",
            str(tmp_path / "out"), "--no-topics", "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    assert "2 documents (2 computed" in capsys.readouterr().err
    docs = pd.read_parquet(tmp_path / "out" / "documents.parquet")
    assert docs["doc_id"].tolist() == ["x/2023", "y"]
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().err


def test_stage_outputs_rows_share_the_cleaned_sentence_strings() -> None:
    """Figure and formulation rows hold the cleaned columns' own sentence strings (so results
    sent between processes pickle each sentence once), and those equal the sentences' text."""
    from textmine.pipeline import DocumentStages

    raw = (ROOT / "corpus" / "jinan-party-building-report.txt").read_text(encoding="utf-8")
    clean, _, _, formulations, figures = DocumentStages(Tokenizer()).stage_outputs("d", raw)
    s = clean.sentences
    by_id = dict(zip(s["sent_id"], zip(s["text"], s["start"], s["end"], strict=True),
                     strict=True))
    assert figures and formulations
    for row in figures + formulations:
        sentence, start, end = by_id[row["sent_id"]]
        assert row["sentence"] is sentence
        assert start <= row["start"] < row["end"] <= end
