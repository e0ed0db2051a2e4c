"""Bad input across every stage: each file read correctly or refused with a clear reason.

The catalogue lives in tests/bad_inputs.py (also run by benchmarks/bad_inputs.py). Each case
runs load → clean → tokenize → quantities → formulations on a folder holding the bad input and a
good report; the summary printed at the end of the module says how many bad inputs were tried,
how each was handled and that no file was lost. The formats, encodings and messages of the
loader itself are tested in test_corpus.py; this module adds the whole chain, the encodings the
loader must refuse rather than misread, the file system's oddities, very long lines, the
regressions found while building the suite and a whole corpus with every bad input at once.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from bad_inputs import CASES, GOOD, Case, Outcome, run_case, stage_problems, summary

from textmine.clean import MAX_SENTENCE_CHARS, as_clean_corpus, clean_corpus, clean_text
from textmine.corpus import (
    InputError,
    SkippedFilesWarning,
    decode_bytes,
    load_corpus,
    read_document,
)
from textmine.formulations import scan_formulations
from textmine.quantities import quantities_of_text
from textmine.segment import Tokenizer
from textmine.spans import detect_spans

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
OUTCOMES: list[Outcome] = []


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module", autouse=True)
def print_summary(request: pytest.FixtureRequest):
    """After the module: the table of how each bad input was handled, in the test log."""
    yield
    if not OUTCOMES:
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + summary(OUTCOMES), flush=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, tokenizer: Tokenizer) -> None:
    outcome = run_case(case, tmp_path / "corpus", tokenizer)
    OUTCOMES.append(outcome)
    if outcome.handled == "not run":
        pytest.skip(outcome.detail)
    assert outcome.handled == case.expect, outcome
    assert outcome.lost == 0, outcome
    assert outcome.ok, outcome


def test_every_bad_input_at_once(tmp_path: Path, tokenizer: Tokenizer) -> None:
    """One folder holding every bad input: the good reports are all read, nothing is lost."""
    folder = tmp_path / "everything"
    folder.mkdir()
    expected_read = 1
    for case in CASES:
        if case.config or case.simulated or case.file == "loop":
            continue
        case.make(folder / case.file)
        expected_read += case.expect == "read"
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SkippedFilesWarning)
            corpus = load_corpus(folder)
    finally:
        for p in folder.iterdir():
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
    assert len(corpus.documents) == expected_read
    refused = [c for c in CASES if c.expect == "refused" and not c.config and not c.simulated
               and c.file != "loop"]
    assert len(corpus.skipped) == len(refused)
    assert all(corpus.skipped["reason"].str.len() >= 10)
    assert len(caught) == 1 and f"{len(refused)} file(s) skipped" in str(caught[0].message)
    clean = clean_corpus(corpus)
    assert stage_problems(clean, tokenizer) == []
    assert clean.documents["doc_id"].is_unique


# --- encodings: refused rather than misread (regressions) ---------------------------------------

@pytest.mark.parametrize(("text", "codec", "problem"), [
    ("政府工作報告", "shift_jis", "Japanese"),  # kanji only: GBK reads it as 惌晎岺嶌曬崘
    ("日本語のテキストです。政府は新しい政策を発表しました。", "shift_jis", "Japanese"),
    ("日本語のテキストです。政府は新しい政策を発表しました。", "euc_jp", "Japanese"),
    ("서울은 인구가 많습니다. 정부는 새로운 정책을 발표했습니다. 대한민국 헌법", "cp949",
     "Korean"),
])
def test_japanese_and_korean_bytes_are_not_read_as_chinese(text: str, codec: str,
                                                           problem: str) -> None:
    with pytest.raises(InputError, match=f"x.txt: looks like {problem}.*re-save the file as "
                                         "UTF-8"):
        decode_bytes(text.encode(codec), "x.txt")


def test_chinese_legacy_text_is_never_taken_for_japanese_or_korean() -> None:
    """Slices of the sample and the national reports in GBK and Big5, short and long."""
    sample = SAMPLE.read_text(encoding="utf-8")
    texts = [sample[i:i + n] for n in (8, 20, 60, 300, 3000) for i in range(0, 3000, 97)]
    shared = ROOT.parent / "shared" / "corpora" / "bench-laws"
    for path in sorted(shared.glob("*.txt"))[:40]:  # law texts: spaced article numbers
        law = path.read_text(encoding="utf-8")
        texts += [law[i:i + 8] for i in range(0, min(len(law), 2000), 50)]
    for text in texts:
        for codec in ("gbk", "big5"):
            data = text.encode(codec, errors="ignore")
            if data.isascii() or not data:
                continue
            try:
                decode_bytes(data)
            except InputError as exc:
                assert "Japanese" not in str(exc) and "Korean" not in str(exc), text


def test_hz_is_read_and_ascii_with_tildes_is_left_alone() -> None:
    assert decode_bytes("政府工作报告，全年粮食产量".encode("hz")) == (
        "政府工作报告，全年粮食产量", "hz")
    assert decode_bytes(b"home ~{user}/path and ~} tildes\n")[1] == "utf-8"


def test_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match="pipe.txt: not a regular file"):
        read_document(pipe)  # before the fix this blocked for ever
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        corpus = load_corpus([pipe, SAMPLE])
    assert list(corpus.documents["doc_id"]) == ["jinan-party-building-report"]


# --- long lines: linear time, bounded pieces ----------------------------------------------------

def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def test_stages_are_not_quadratic_on_one_long_line(tokenizer: Tokenizer) -> None:
    """Four times the text must cost well under sixteen times the time (with noise allowed)."""
    sample = SAMPLE.read_text(encoding="utf-8").replace("\n", "")
    no_punct = "统计数据显示全村集体收入达到40余万元共有党员1053人"
    for unit in (sample, no_punct):
        small = (unit * (60_000 // len(unit) + 1))[:60_000]
        large = (unit * (240_000 // len(unit) + 1))[:240_000]
        for stage in (lambda t: clean_text(t),
                      lambda t: tokenizer.tokenize_document(t, [(0, 0, len(t))]),
                      lambda t: quantities_of_text(t),
                      lambda t: detect_spans(t),
                      lambda t: scan_formulations(t)):
            _timed(stage, small[:2000])  # warm up
            t_small = max(_timed(stage, small), 0.01)
            t_large = _timed(stage, large)
            assert t_large < 9 * t_small + 0.5, (unit[:10], stage, t_small, t_large)


def test_sentence_without_punctuation_is_cut_into_bounded_pieces() -> None:
    line = "统计数据显示，全村集体收入达到40余万元" * 2000 + "。结尾一句。"
    doc = clean_text(line)
    lengths = doc.sentences["end"] - doc.sentences["start"]
    assert lengths.max() <= MAX_SENTENCE_CHARS
    assert "".join(doc.sentences["text"]) == line  # cut, never dropped
    assert doc.sentences["text"].iloc[0].endswith("，")  # at a comma, not mid-word
    assert doc.sentences["text"].iloc[-1] == "结尾一句。"
    real = clean_text(SAMPLE.read_text(encoding="utf-8"))  # real sentences are never cut
    assert (real.sentences["end"] - real.sentences["start"]).max() < 300


def test_quantities_share_one_sentence_string() -> None:
    line = "全村集体收入达到40余万元共有党员1053人" * 100
    rows = quantities_of_text(line, [(0, 0, len(line))])
    assert len(rows) == 200
    assert len({id(r["sentence"]) for r in rows}) == 1  # not one copy a figure


LINE_SCRIPT = r"""
import resource, sys, time
from pathlib import Path
from textmine.corpus import load_corpus
from textmine.clean import clean_corpus
path = Path(sys.argv[1])
t = time.perf_counter()
corpus = load_corpus(path)
clean = clean_corpus(corpus)
n = int(clean.documents["n_chars"].iloc[0])
longest = int((clean.sentences["end"] - clean.sentences["start"]).max())
print(n, len(clean.sentences), longest, round(time.perf_counter() - t, 1),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_fifty_megabyte_line_loads_and_cleans_in_bounded_memory(tmp_path: Path) -> None:
    """A single 50 MB line (no line break at all) loads and cleans in a subprocess.

    Peak memory stays a small multiple of the file (bytes, text, cleaned text, sentence table)
    and the sentences are bounded. Tokens, figures and formulations of such a document are
    tested for linear cost above on 240,000 characters: their tables grow with the document
    (a 50 MB document has ~8 million tokens), so running them on the full line here would cost
    minutes, not prove more.
    """
    unit = SAMPLE.read_text(encoding="utf-8").replace("\n", "").encode("utf-8")
    path = tmp_path / "one line.txt"
    with open(path, "wb") as fh:
        size = 0
        while size < 50 * 1024 * 1024:
            fh.write(unit)
            size += len(unit)
    result = subprocess.run([sys.executable, "-c", LINE_SCRIPT, str(path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    n_chars, n_sentences, longest, seconds, peak_mb = map(float, result.stdout.split())
    print(f"50 MB line: {n_chars:,.0f} characters, {n_sentences:,.0f} sentences (longest "
          f"{longest:.0f}), {seconds:.0f} s, peak RSS {peak_mb:,.0f} MB")
    assert n_chars == size // len(unit) * len(unit.decode("utf-8"))
    assert longest <= MAX_SENTENCE_CHARS
    # measured: 18.3 million characters, 8 s, peak RSS ~1.1 GB (~21 times the file: its bytes,
    # the raw and cleaned text as str, and the blocks, sentences and ledger tables)
    assert peak_mb < 30 * size / 1024 / 1024


def test_clean_corpus_runs_on_empty_corpus_of_only_bad_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        corpus = load_corpus(tmp_path)
    clean = clean_corpus(corpus)
    assert len(clean.documents) == 0 and len(clean.skipped) == 1
    assert as_clean_corpus(clean) is clean


def test_cli_ingest_lists_bad_files_and_fails_only_when_nothing_read(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    japanese = "日本語のテキストです。東京都は人口が多い。"
    (folder / "sjis.txt").write_bytes(japanese.encode("shift_jis"))
    (folder / "empty.txt").write_bytes(b"")
    cmd = [sys.executable, "-m", "textmine", "ingest", str(folder), "--out", str(tmp_path / "o"),
           "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"skipped {folder / 'sjis.txt'}: looks like Japanese" in done.stderr
    assert f"skipped {folder / 'empty.txt'}: empty file" in done.stderr
    assert "files skipped: 2" in done.stdout
    (folder / "good.txt").unlink()
    failed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0
    assert "no document could be read" in failed.stderr


# --- textmine doctor ----------------------------------------------------------------------------

def test_doctor_passes_in_this_environment(tmp_path: Path) -> None:
    from textmine.doctor import diagnose

    table = diagnose(cache_dir=tmp_path / "cache")
    assert list(table["check"]) == ["python", "libraries", "cjk font", "jieba", "cache"]
    assert (table["status"] != "fail").all(), table.to_dict("records")
    assert "packages at their locked versions" in table.set_index("check").loc["libraries",
                                                                               "detail"]


def test_doctor_removes_what_killed_runs_left_anywhere_in_the_cache(tmp_path: Path) -> None:
    """A killed cache write leaves its temporary file deep in the cache; `textmine doctor`
    removes it and says so, and keeps the file of a writer that is still running."""
    from textmine.cache import _HOST, Cache
    from textmine.doctor import check_cache

    cache = tmp_path / "cache"
    Cache(cache).put("tokens", "ab12", [1, 2])
    entry_folder = cache / "tokens" / "ab"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = entry_folder / f".cd34.{_HOST}-{int(finished.stdout)}.abcd1234.tmp"
    live = entry_folder / f".ef56.{_HOST}-{os.getpid()}.abcd1234.tmp"
    for path in (dead, live):
        path.write_bytes(b"half")
    check = check_cache(cache)
    assert check.status != "fail" and "removed 1 temporary files" in check.detail, check
    assert not dead.exists() and live.exists()
    assert Cache(cache).get("tokens", "ab12") == (True, [1, 2])
    assert "removed" not in check_cache(cache).detail  # nothing left to sweep


def test_doctor_names_what_is_wrong_and_how_to_fix_it(tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    import jieba

    from textmine.cli import main

    lock = tmp_path / "requirements.lock"
    lock.write_text("pandas==0.0.1\n    # via textmine\nno-such-package-xyz==1.0\n"
                    "colorama==0.4.6 ; sys_platform == 'win32'\n", encoding="utf-8")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    fake_jieba = tmp_path / "jieba" / "__init__.py"  # a jieba whose dict.txt went missing
    monkeypatch.setattr(jieba, "__file__", str(fake_jieba))
    code = main(["doctor", "--lock", str(lock), "--cache-dir", str(blocked / "cache")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  libraries" in out and "pandas 3." in out and "(locked 0.0.1)" in out
    assert "1 missing: no-such-package-xyz" in out and "colorama" not in out  # marker: not here
    assert "fix: make test" in out
    assert f"FAIL  jieba      {fake_jieba.with_name('dict.txt')}: jieba's dictionary is missing" \
        in out
    assert f"FAIL  cache      {blocked / 'cache'}: cannot write" in out
    assert "3 check(s) failed" in out


# --- a large corpus through the streaming pipeline ----------------------------------------------

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, from the (large) test process
PIPELINE_RSS = r"""
import sys
from textmine.cache import Cache
from textmine.pipeline import run_pipeline, read_output
result = run_pipeline(sys.argv[1], sys.argv[2], cache=Cache(enabled=False), quiet=True,
                      topics=False)
n_docs = len(read_output(sys.argv[2], "documents"))
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
print(result.n_documents, n_docs, int(peak[0]) // 1024)
"""


def _generated_corpus(folder: Path, megabytes: float) -> int:
    national = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"
    if not national.is_dir():
        pytest.skip("../shared/corpora not available")
    reports = [p.read_text(encoding="utf-8") for p in sorted(national.glob("*.txt"))]
    folder.mkdir(parents=True)
    size = n = 0
    while size < megabytes * 2**20:
        data = (f"第{n}份\n" + reports[n % len(reports)]).encode("utf-8")  # each copy distinct
        (folder / f"r{n:05d}.txt").write_bytes(data)
        size, n = size + len(data), n + 1
    return size


def test_pipeline_memory_grows_slowly_with_the_corpus(tmp_path: Path) -> None:
    """Peak RSS of run_pipeline on a 1 MB and a 4 MB generated corpus, in fresh processes.

    The folder is read one file at a time into a window of batches, tables stream to Parquet,
    the merged counts are spilled to disk and the matrices written a chunk at a time.
    benchmarks/memory.py measures it on copies of bench-laws: 450 / 486 / 529 / 580 MB peak for
    25 / 50 / 100 / 200 MB (1.29×; before streaming: 509 MB at 5 MB → 1,437 MB at 200 MB).
    On these small corpora of distinct reports the vocabulary (and the tokenizer's and the
    merger's tables with it) still grows with every report, so the slope here is steeper than
    on large ones; it must stay under 15 MB per MB: a guard against gross regressions (text or
    tables kept per document), not the measure of flatness, which the benchmark is.
    """
    peaks, sizes = [], []
    for mb in (1, 4):
        sizes.append(_generated_corpus(tmp_path / f"in{mb}", mb) / 2**20)
        done = subprocess.run([sys.executable, "-c", PIPELINE_RSS, str(tmp_path / f"in{mb}"),
                               str(tmp_path / f"out{mb}")], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        n_result, n_table, peak = map(int, done.stdout.split())
        assert n_result == n_table == len(list((tmp_path / f"in{mb}").iterdir()))
        peaks.append(peak)
    slope = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])
    print(f"pipeline peak RSS {peaks[0]} MB for {sizes[0]:.1f} MB, {peaks[1]} MB for "
          f"{sizes[1]:.1f} MB: {slope:.1f} MB per MB")
    assert slope < 15
