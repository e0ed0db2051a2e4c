"""Paper figures: the CJK font renders every glyph, embeds in the PDF, and files are byte-stable."""

from __future__ import annotations

import json
import multiprocessing
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from textmine import plots, provenance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
LABELS = ["羊肚菌", "葫芦套村", "党建引领", "第一书记", "“五个村居”", "40余万元"]


def chinese_figure():
    plots.use_paper_style()
    fig, ax = plots.figure("single")
    frame = pd.DataFrame({"term": LABELS, "n": [9, 7, 11, 2, 1, 1]})
    plots.bar_terms(frame, "n", ax=ax, xlabel="出现次数")
    ax.set_title("济南：基层党建迸发新活力 −2.3%")
    return fig


def pdf_fonts(path: Path) -> list[dict]:
    """Every font dictionary of the PDF's first page, with its descriptor resolved."""
    page = PdfReader(str(path)).pages[0]
    found = []
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        target = descendants[0].get_object() if descendants else font
        descriptor = target.get("/FontDescriptor")
        found.append({"subtype": str(font["/Subtype"]), "base": str(font.get("/BaseFont")),
                      "descriptor": descriptor.get_object() if descriptor else None})
    return found


def test_cjk_font_is_open_truetype_and_covers_the_report():
    path = plots.cjk_font_path()
    font = TTFont(str(path), lazy=True)
    assert "glyf" in font and "CFF " not in font  # TrueType outlines: fonttype 42 is valid
    assert "Noto Sans SC" in font["name"].getDebugName(1)
    assert "SimHei" not in str(path)
    cmap = font.getBestCmap()
    text = SAMPLE.read_text(encoding="utf-8")
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in cmap})
    assert missing == []


def test_missing_glyph_check_can_fail():
    """Without the CJK font matplotlib warns about each Chinese glyph: the check below is real."""
    with plt.rc_context({"font.family": "DejaVu Sans"}), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("羊肚菌")
        fig.canvas.draw()
        plt.close(fig)
    assert any("missing from font" in str(x.message) for x in w)


def test_chinese_figure_has_no_missing_glyphs_and_pdf_embeds_the_font(tmp_path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fig = chinese_figure()
        paths = plots.save_figure(fig, "chinese_labels", outdir=tmp_path)
        plt.close(fig)
    assert [str(x.message) for x in w if "missing from font" in str(x.message)] == []
    pdf, svg, png = paths
    fonts = pdf_fonts(pdf)
    noto = [f for f in fonts if "NotoSansSC" in f["base"]]
    assert noto, fonts
    for font in noto:
        assert font["subtype"] == "/Type0"  # CID font (Type 42), not Type 3
        assert "/FontFile2" in font["descriptor"]  # the TrueType program is embedded
    assert not [f for f in fonts if f["subtype"] == "/Type3"]
    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "羊肚菌" in text and "葫芦套村" in text  # text stays searchable/copyable
    svg_text = svg.read_text(encoding="utf-8")
    assert "<text" not in svg_text and "<path" in svg_text  # glyphs drawn as paths
    assert "<dc:date>" not in svg_text
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] == round(plots.SINGLE_COLUMN * plots.PNG_DPI)


def test_two_renders_are_byte_identical(tmp_path):
    runs = []
    for folder in ("1", "2"):
        paths = plots.save_figure(chinese_figure(), "a", outdir=tmp_path / folder)
        runs.append([p.read_bytes() for p in paths])
        plt.close("all")
    first, second = runs
    assert first == second
    pdf = first[0]
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf


def test_save_figure_records_the_manifest(tmp_path):
    outdir = tmp_path / "figures"
    fig = chinese_figure()
    plots.save_figure(fig, "bars", outdir=outdir, notebook="10_vocabulary",
                      parameters={"corpus": str(SAMPLE.parent), "config": None,
                                  "output": str(outdir)})
    manifest = json.loads((outdir / "MANIFEST.json").read_text(encoding="utf-8"))
    (entry,) = manifest["figures"]
    assert entry["name"] == "bars" and entry["notebook"] == "10_vocabulary"
    assert [f["path"] for f in entry["files"]] == ["figures/bars.pdf", "figures/bars.svg",
                                                   "figures/bars.png"]
    for f in entry["files"]:
        assert f["sha256"] == provenance.sha256_file(tmp_path / f["path"])
    assert entry["corpus_hash"] == provenance.corpus_hash(SAMPLE.parent)
    assert entry["parameters"]["output"] == "figures"
    assert manifest["versions"]["matplotlib"] == matplotlib.__version__
    assert "textmine" in manifest["versions"]


def test_bad_figure_name_is_refused(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="figure name"):
        plots.save_figure(fig, "../escape", outdir=tmp_path)
    plt.close(fig)


def _save_in_process(args: tuple[str, str]) -> None:
    outdir, name = args
    plots.use_paper_style()
    fig, ax = plots.figure("single")
    ax.plot([1, 2, 3])
    plots.save_figure(fig, name, outdir=outdir, formats=("svg",))


def test_concurrent_writers_keep_every_entry(tmp_path):
    names = [f"fig{i}" for i in range(6)]
    with multiprocessing.get_context("fork").Pool(3) as pool:
        pool.map(_save_in_process, [(str(tmp_path), n) for n in names])
    manifest = provenance.read_manifest(tmp_path)
    assert sorted(e["name"] for e in manifest["figures"]) == names


def test_word_cloud_uses_the_chinese_font():
    image = plots.word_cloud({"党建引领": 10, "羊肚菌": 6, "基层治理": 4})
    assert image.ndim == 3 and (image < 250).any()  # something was drawn
    assert re.search(r"\.ttf$", str(plots.cjk_font_path()))
