"""The notebook collection: clean sources, headless runs on one and several reports, failures
reported per cell, reruns byte-identical, and JupyterLab serving and running them."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from textmine import provenance
from textmine.notebooks import list_notebooks, run_collection, strip_outputs, write_report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHARED = ROOT.parent / "shared" / "corpora"
NATIONAL = SHARED / "gov-work-reports-national"
EXPECTED = ["00_corpus_overview", "10_vocabulary", "20_keywords_keyness", "30_topics",
            "40_formulations", "50_figures", "60_entities_networks", "70_concordance"]


def failures(results) -> str:
    return "\n".join(str(r) for r in results if not r.ok)


def test_collection_is_complete_and_in_reading_order():
    assert [p.stem for p in list_notebooks(NOTEBOOKS)] == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_source_has_no_outputs_and_one_parameters_cell(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "strip outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assigned = {t.id for node in ast.parse(tagged[0].source).body
                if isinstance(node, ast.Assign) for t in node.targets}
    assert assigned == {"corpus", "config", "output"}
    source = "\n".join(c.source for c in nb.cells)
    assert "jinan" not in source.lower()  # nothing names the sample: any corpus works
    assert "import textmine" in source
    assert len(code) <= 12  # short: the logic lives in textmine


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("default")
    started = time.perf_counter()
    results = run_collection(ROOT / "corpus", notebooks=NOTEBOOKS, build=out / "build",
                             figures=out / "figures", quiet=True, jobs=2)
    return out, results, time.perf_counter() - started


def test_every_notebook_runs_on_the_default_corpus(default_run):
    out, results, _ = default_run
    assert [r.notebook for r in results] == EXPECTED
    assert failures(results) == ""
    for r in results:
        assert r.seconds < 60, f"{r.notebook} took {r.seconds:.0f} s"
        executed = nbformat.read(r.executed, as_version=4)
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    manifest = provenance.read_manifest(out / "figures")
    names = {e["name"] for e in manifest["figures"]}
    assert {"corpus_lengths", "corpus_block_kinds", "vocabulary_top_terms",
            "vocabulary_wordcloud", "keyness_last_group", "topics_selection", "topics_terms",
            "topics_heatmap", "topics_over_time", "formulations_top",
            "formulations_emergence", "quantities_by_kind_unit", "quantities_density",
            "entities_top", "cooccurrence_network"} <= names
    for entry in manifest["figures"]:
        assert entry["notebook"] in EXPECTED
        assert entry["corpus_hash"] == provenance.corpus_hash(ROOT / "corpus")
        for f in entry["files"]:
            assert provenance.sha256_file(out / f["path"]) == f["sha256"]
    # the concordance explorer shows a static table when nobody can use the widgets
    kwic = nbformat.read(out / "build" / "notebooks" / "70_concordance.ipynb", as_version=4)
    html = [o["data"].get("text/html", "") for c in kwic.cells if c.cell_type == "code"
            for o in c.outputs if o.get("output_type") == "execute_result"]
    assert any("<table" in h and "match" in h for h in html)


def test_strip_outputs_restores_a_clean_source(default_run, tmp_path):
    out, _, _ = default_run
    copy = tmp_path / "00_corpus_overview.ipynb"
    shutil.copy(out / "build" / "notebooks" / copy.name, copy)
    assert strip_outputs(copy) is True
    nb = nbformat.read(copy, as_version=4)
    assert all(c.outputs == [] and c.execution_count is None
               for c in nb.cells if c.cell_type == "code")
    assert "papermill" not in nb.metadata
    assert strip_outputs(copy) is False


def test_rerun_gives_identical_figures(default_run, tmp_path):
    out, _, _ = default_run
    rerun = run_collection(ROOT / "corpus", notebooks=NOTEBOOKS, build=tmp_path / "build",
                           figures=tmp_path / "figures", quiet=True, only=["10_vocabulary"])
    assert failures(rerun) == ""
    before = {f["path"]: f["sha256"] for e in provenance.read_manifest(out / "figures")["figures"]
              if e["notebook"] == "10_vocabulary" for f in e["files"]}
    after = {f["path"]: f["sha256"] for e in provenance.read_manifest(tmp_path / "figures")
             ["figures"] for f in e["files"]}
    assert before and before == after


def test_html_report_embeds_figures_and_a_chinese_font(default_run, tmp_path):
    _, results, _ = default_run
    html = write_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 10
    assert "@font-face" in html and "textmine-cjk" in html
    assert "党建" in html  # the text itself is there, in UTF-8


def test_notebooks_run_on_a_multi_document_corpus(tmp_path):
    if not NATIONAL.is_dir():
        pytest.skip("../shared/corpora not available")
    corpus = tmp_path / "reports"
    corpus.mkdir()
    for year in ("1975", "1980", "2002"):  # the openings of three reports, three decades apart
        text = (NATIONAL / f"{year}.txt").read_text(encoding="utf-8")
        cut = text.find("\n", 8000)
        (corpus / f"{year}.txt").write_text(text[:cut if cut > 0 else None], encoding="utf-8")
    config = tmp_path / "settings.toml"
    config.write_text("[textmine]\ntopic_range = [3, 5]\n", encoding="utf-8")
    results = run_collection(corpus, config=config, notebooks=NOTEBOOKS, jobs=2,
                             build=tmp_path / "build", figures=tmp_path / "figures", quiet=True)
    assert failures(results) == ""
    manifest = provenance.read_manifest(tmp_path / "figures")  # two writers at once
    per_notebook = {e["notebook"] for e in manifest["figures"]}
    assert per_notebook == set(EXPECTED) - {"70_concordance"}  # 70 shows tables only
    # paths are stored relative to the folder holding figures/
    assert {e["parameters"]["config"] for e in manifest["figures"]} == {"settings.toml"}
    assert {e["parameters"]["corpus"] for e in manifest["figures"]} == {"reports"}
    keyness = nbformat.read(tmp_path / "build" / "notebooks" / "20_keywords_keyness.ipynb",
                            as_version=4)
    printed = "".join(o.get("text", "") for c in keyness.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "groups by 'year': 3" in printed


def _notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('corpus = "."\nconfig = None\noutput = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)


def test_a_failing_notebook_names_the_cell_and_the_others_still_run(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_first.ipynb", "x = 1")
    _notebook(folder / "10_broken.ipynb", "y = 2", "raise ValueError('no such column: year')")
    _notebook(folder / "20_last.ipynb", "print('still here')")
    results = run_collection(tmp_path, notebooks=folder, build=tmp_path / "build",
                             figures=tmp_path / "figures", quiet=True)
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert "raise ValueError" in error and "ValueError: no such column: year" in error
    assert "cell 3" in error  # papermill's injected-parameters cell makes it the 4th cell
    html = write_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "failed" in html and "no such column: year" in html


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"token {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text else {}


def test_jupyterlab_lists_and_runs_a_notebook(tmp_path):
    """Start JupyterLab from the project's environment on loopback, list the collection, run
    the first notebook in a kernel the server started, shut everything down."""
    from jupyter_client import BlockingKernelClient

    jupyter = Path(sys.executable).parent / "jupyter"
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}", f"--LabApp.workspaces_dir={tmp_path / 'ws'}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    client = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/api/status", token)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start:\n"
                                + (tmp_path / "lab.log").read_text(errors="replace")[-2000:])
                time.sleep(0.5)
        listing = _get(f"{base}/api/contents/notebooks", token)
        names = sorted(item["name"] for item in listing["content"]
                       if item["type"] == "notebook")
        assert names == [f"{n}.ipynb" for n in EXPECTED]

        session = _get(f"{base}/api/sessions", token, "POST",
                       {"path": "notebooks/00_corpus_overview.ipynb", "type": "notebook",
                        "name": "00_corpus_overview.ipynb", "kernel": {"name": "python3"}})
        kernel_id = session["kernel"]["id"]
        client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{kernel_id}.json"))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        nb = nbformat.read(NOTEBOOKS / "00_corpus_overview.ipynb", as_version=4)
        figures = tmp_path / "figures"
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            code = cell.source
            if "parameters" in cell.metadata.get("tags", []):
                code += (f"\ncorpus = {str(ROOT / 'corpus')!r}\noutput = {str(figures)!r}"
                         "\nimport matplotlib\nmatplotlib.use('Agg')")
            reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
        assert (figures / "corpus_lengths.pdf").exists()
        _get(f"{base}/api/sessions/{session['id']}", token, "DELETE")
    finally:
        if client is not None:
            client.stop_channels()
        with contextlib.suppress(OSError):  # the server may close the connection as it stops
            _get(f"{base}/api/shutdown", token, "POST")
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
        log.close()
    assert server.returncode is not None
