"""Provenance: corpus hashes, versions, git, the manifest, and `verify` catching changed bytes."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from textmine import cli, provenance
from textmine.notebooks import run_main_job

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"


def test_corpus_hash_follows_content_names_and_files(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.txt")
    first = provenance.corpus_hash(tmp_path)
    assert provenance.corpus_hash(tmp_path) == first
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    assert provenance.corpus_hash(tmp_path) == first  # hidden files do not count
    text = SAMPLE.read_text(encoding="utf-8")
    (tmp_path / "a.txt").write_text(text.replace("2278人", "2279人"), encoding="utf-8")
    edited = provenance.corpus_hash(tmp_path)
    assert edited != first
    (tmp_path / "a.txt").rename(tmp_path / "b.txt")
    assert provenance.corpus_hash(tmp_path) not in {first, edited}
    with pytest.raises(FileNotFoundError, match="nowhere"):
        provenance.corpus_hash(tmp_path / "nowhere")


def test_versions_name_textmine_and_its_dependencies():
    found = provenance.versions()
    for name in ("python", "textmine", "jieba", "pandas", "matplotlib", "seaborn", "fonttools",
                 "pylopdf-fonts-zh-cn", "papermill"):
        assert re.match(r"^\d+\.\d+", found[name]), name


def test_git_commit_inside_and_outside_a_repository(tmp_path):
    assert provenance.git_commit(tmp_path) == (None, None)
    if (ROOT / ".git").exists():
        commit, dirty = provenance.git_commit(ROOT)
        assert re.fullmatch(r"[0-9a-f]{40}", commit) and isinstance(dirty, bool)


def test_bad_manifest_is_named(tmp_path):
    (tmp_path / "MANIFEST.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="MANIFEST.json"):
        provenance.read_manifest(tmp_path)
    assert provenance.read_manifest(tmp_path / "elsewhere")["figures"] == []


def test_paths_are_stored_relative_to_the_project(tmp_path):
    root = tmp_path / "project"
    assert provenance.relative_to_root(root / "figures" / "a.pdf", root) == "figures/a.pdf"
    assert provenance.relative_to_root(tmp_path / "shared" / "x", root) == "../shared/x"


TINY = '''import textmine as tm
from textmine import plots
from textmine.notebooks import load_clean
plots.use_paper_style()
save = plots.FigureSaver(output, notebook="00_tiny",
                         parameters={"corpus": corpus, "config": config, "output": output})
cfg, clean = load_clean(corpus, config)
kinds = clean.blocks.groupby("kind", as_index=False).size()
fig, ax = plots.figure("single")
plots.bar_terms(kinds, "size", term="kind", ax=ax, xlabel="块数")
ax.set_title(clean.documents["title"].iloc[0])
save(fig, "tiny_block_kinds")'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A small project: the sample corpus and a one-notebook collection, run once."""
    tmp_path = tmp_path_factory.mktemp("project")
    (tmp_path / "corpus").mkdir()
    for name in ("jinan-party-building-report.txt", "metadata.csv"):
        shutil.copy(ROOT / "corpus" / name, tmp_path / "corpus" / name)
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('corpus = "../corpus"\nconfig = None\n'
                                       'output = "../figures"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(TINY)]
    nbformat.write(nb, tmp_path / "notebooks" / "00_tiny.ipynb")
    with contextlib.chdir(tmp_path):
        results = run_main_job("corpus", quiet=True)
    assert [r.ok for r in results] == [True], [str(r) for r in results]
    return tmp_path


def test_main_job_writes_tables_figures_manifest_and_report(project):
    manifest = json.loads((project / "figures" / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["run"]["corpus"] == "corpus"
    assert manifest["git_commit"] is None  # not a git work tree: recorded as unknown
    (entry,) = manifest["figures"]
    assert entry["parameters"] == {"corpus": "corpus", "config": None, "output": "figures"}
    assert {f["path"] for f in entry["files"]} == {f"figures/tiny_block_kinds.{x}"
                                                   for x in ("pdf", "svg", "png")}
    tables = {t["path"] for t in manifest["tables"]}
    assert {"build/tables/documents.parquet", "build/tables/sentences.csv"} <= tables
    report = (project / "build" / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in report and "00_tiny" in report
    assert (project / "build" / "notebooks" / "00_tiny.ipynb").exists()


def test_verify_passes_on_a_rerun_and_lists_what_differs(project, capsys):
    """(Runs after the test above: it edits the project's files.)"""
    manifest_path = project / "figures" / "MANIFEST.json"
    report = provenance.verify(manifest_path, quiet=True)
    assert report.ok, [str(d) for d in report.differences] + report.failures
    assert report.checked >= 3 + 8

    png = project / "figures" / "tiny_block_kinds.png"
    png.write_bytes(png.read_bytes() + b"\0")  # a figure edited after the run
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for table in manifest["tables"]:
        if table["path"] == "build/tables/blocks.csv":
            table["sha256"] = "0" * 64  # the manifest remembers other bytes for a table
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    code = cli.main(["verify", "--manifest", str(manifest_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "figures/tiny_block_kinds.png differs (on disk)" in out
    assert "build/tables/blocks.csv differs (rerun)" in out
    assert "tiny_block_kinds.pdf" not in out  # unchanged files are not listed
    assert "DIFFERENT" in out
