"""Loading corpora: formats, encodings, metadata, traditional characters and bad input."""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from textmine.config import Config
from textmine.corpus import (
    DOCUMENT_COLUMNS,
    Corpus,
    InputError,
    SkippedFilesWarning,
    date_from_name,
    decode_bytes,
    headline,
    load_corpus,
    read_document,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
# A simplified passage (the sample report) and a traditional one (cpc03 is in traditional
# characters as on Wikisource), for generating files in each encoding.
SIMPLIFIED = ("村里人都知道，葫芦套村有个“红”管家。2023年，全村集体收入达到40余万元，"
              "平均年龄42.7岁的党员志愿者服务群众2278人次。\n突出强村富民 整合资源筑堡垒促振兴\n")
TRADITIONAL = ("現在我代表中央委員會作關於上屆代表會議以來的工作報告。中央委員會的人員太少，"
               "搜集不了很多材料。由於遭受迫害，許多材料也遺失了。\n")


def shared(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip("../shared/corpora not available")
    return folder


def quiet_load(*args, **kwargs) -> Corpus:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        return load_corpus(*args, **kwargs)


# --- the shared corpora ------------------------------------------------------------------------

# Document and character counts as stated in each folder's MANIFEST.md.
MANIFEST_COUNTS = {
    "bench-laws": (3475, 20_145_246),
    "cpc-congress-reports": (15, 354_457),
    "gov-work-reports-national": (47 + 20, 1_010_513 + 11_543),  # reports + resolutions/
    "gov-work-reports-provincial-2025": (28, 499_403),
    "gov-work-reports-provincial-2026": (28, 538_679),
    "party-building-news": (24, None),
}


@pytest.mark.parametrize("name", sorted(MANIFEST_COUNTS))
def test_every_shared_corpus_loads_completely(name: str) -> None:
    folder = shared(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedFilesWarning)
        corpus = load_corpus(folder)
    docs = corpus.documents
    n_docs, n_chars = MANIFEST_COUNTS[name]
    assert corpus.skipped.empty
    assert len(docs) == n_docs
    if n_chars is not None:
        assert docs["n_chars"].sum() == n_chars
    # metadata.csv records every file's length in characters and bytes: they must agree
    assert (docs["n_chars"] == docs["chars"]).all()
    sizes = [Path(p).stat().st_size for p in docs["path"]]
    assert list(docs["bytes"]) == sizes
    assert list(docs.columns[:len(DOCUMENT_COLUMNS)]) == DOCUMENT_COLUMNS
    assert docs["doc_id"].is_unique
    assert (docs["encoding"] == "utf-8").all()
    assert not docs["path"].str.contains("MANIFEST|metadata.csv").any()
    assert (docs["title"] != "").all()


def test_national_reports_years_and_titles() -> None:
    folder = shared("gov-work-reports-national")
    reports = load_corpus(folder, recursive=False).documents
    assert len(reports) == 47
    assert reports["year"].dtype == "Int64"
    years = list(reports["year"])
    assert years == sorted(years) and years[0] == 1954 and years[-1] == 2025
    assert 1956 not in years and 2023 not in years  # hold-out years are not in this copy
    row = reports.set_index("doc_id").loc["2024"]
    assert row["title"] == "2024年中华人民共和国国务院政府工作报告"
    assert row["date"] == "2024"  # from the file name (metadata has only `year`)
    assert row["url"].startswith("https://zh.wikisource.org/")  # from wikisource_url
    everything = load_corpus(folder).documents
    resolutions = everything[everything["doc_id"].str.startswith("resolutions/")]
    assert len(resolutions) == 20
    assert resolutions["year"].isna().all()  # npc02-s3: no year in name or metadata
    assert resolutions.set_index("doc_id").loc["resolutions/npc14-s3", "session"] == 3
    assert "关于政府工作报告的决议" in resolutions["title"].iloc[0]


def test_provincial_metadata_extra_columns_kept() -> None:
    docs = load_corpus(shared("gov-work-reports-provincial-2026")).documents.set_index("doc_id")
    shandong = docs.loc["2026-shandong"]
    assert shandong["province"] == "山东省"
    assert shandong["year"] == 2026
    assert shandong["date"] == "2026-02-01"  # publish_date fills `date`
    assert shandong["publish_date"] == "2026-02-01"  # and stays as it is
    assert shandong["title"] == "2026年山东省政府工作报告"
    docs25 = load_corpus(shared("gov-work-reports-provincial-2025")).documents
    assert (docs25["year"] == 2025).all()
    # 2025 metadata has no title: the headline of the text supplies it
    assert set(docs25["title_source"]) == {"headline"}
    assert docs25.set_index("doc_id").loc["2025-shandong", "title"] == "2025年山东省政府工作报告"


def test_headline_skips_page_chrome(tmp_path: Path) -> None:
    source = shared("gov-work-reports-provincial-2026") / "2026-shandong.txt"
    text = source.read_text(encoding="utf-8")
    assert text.startswith("下载\n打印\n全屏")
    assert headline(text) == "2026年山东省政府工作报告"
    copy = tmp_path / "2026-shandong.txt"  # no metadata.csv here
    shutil.copy(source, copy)
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert (doc["title"], doc["title_source"], doc["year"]) == ("2026年山东省政府工作报告",
                                                                "headline", 2026)


def test_traditional_documents_flagged_and_converted() -> None:
    folder = shared("cpc-congress-reports")
    docs = load_corpus(folder).documents.set_index("doc_id")
    assert bool(docs.loc["cpc03", "is_traditional"])
    assert not docs.loc[["cpc09", "cpc20"], "is_traditional"].any()
    # cpc01-*: the report text is simplified; only the Wikisource licence footer is traditional
    assert not docs.loc[["cpc01-beijing", "cpc01-guangzhou"], "is_traditional"].any()
    assert (docs.loc[["cpc01-beijing", "cpc01-guangzhou"], "traditional_share"] > 0).all()
    assert not docs["converted"].any()
    national = load_corpus(shared("gov-work-reports-national"), recursive=False).documents
    assert national.loc[national["is_traditional"], "doc_id"].tolist() == ["1954"]

    converted = load_corpus([folder / "cpc03.txt"], to_simplified=True).documents.iloc[0]
    original = (folder / "cpc03.txt").read_text(encoding="utf-8")
    assert converted["converted"]
    assert converted["original_text"] == original  # nothing silently lost
    assert "现在我代表中央委员会作关于上届代表会议" in converted["text"]
    assert "現在我代表" not in converted["text"]
    via_config = load_corpus([folder / "cpc03.txt"], Config(to_simplified=True)).documents
    assert via_config["text"].iloc[0] == converted["text"]


def test_sample_corpus_folder() -> None:
    corpus = load_corpus(ROOT / "corpus")
    docs = corpus.documents
    assert corpus.skipped.empty
    assert list(docs["doc_id"]) == ["jinan-party-building-report"]  # README.md is not a document
    doc = docs.iloc[0]
    assert doc["title"] == "济南：基层党建迸发新活力 党建温度让百姓更幸福"
    assert doc["author"] == "夏侯凤超"
    assert doc["text"] == SAMPLE.read_text(encoding="utf-8")
    assert doc["n_chars"] == 3194
    assert corpus.root == ROOT / "corpus"


# --- encodings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("codec", "text", "recorded"), [
    ("utf-8", SIMPLIFIED, "utf-8"),
    ("utf-8-sig", SIMPLIFIED, "utf-8-sig"),
    ("utf-16", SIMPLIFIED, "utf-16"),  # with BOM (little-endian here)
    ("utf-16-be-bom", SIMPLIFIED, "utf-16"),
    ("utf-16-le", SIMPLIFIED, "utf-16-le"),  # without BOM
    ("utf-16-be", SIMPLIFIED, "utf-16-be"),
    ("gbk", SIMPLIFIED, "gbk"),
    ("gb18030", SIMPLIFIED + "䶮𠀀\n", "gb18030"),  # characters beyond GBK
    ("big5", TRADITIONAL, "big5"),
])
def test_encodings_decode_to_the_same_text(tmp_path: Path, codec: str, text: str,
                                           recorded: str) -> None:
    data = (b"\xfe\xff" + text.encode("utf-16-be")) if codec == "utf-16-be-bom" \
        else text.encode(codec)
    path = tmp_path / f"doc-{codec}.txt"
    path.write_bytes(data)
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert doc["text"] == text
    assert doc["encoding"] == recorded
    assert data.decode(doc["encoding"]) == text  # the recorded codec reproduces the text
    assert doc["n_chars"] == len(text)


def test_short_and_long_legacy_files_detected() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    for n in (12, 80, 3000):
        text = sample[400:400 + n]
        assert decode_bytes(text.encode("gb18030")) == (text, "gbk")
        assert decode_bytes(text.encode("utf-16-le"))[0] == text


def test_national_reports_in_legacy_encodings_round_trip() -> None:
    # charset-normalizer alone rejects some long reports (it distrusts long runs of Chinese
    # without spaces): the fallback must still find the encoding of every one
    for path in sorted(shared("gov-work-reports-national").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert decode_bytes(text.encode("gb18030"), path)[0] == text
        big5 = text.encode("big5", errors="ignore")  # simplified-only characters dropped
        assert decode_bytes(big5, path) == (big5.decode("big5"), "big5")


def test_mixed_utf8_and_gbk(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("第一段是UTF-8。\n".encode() + "第二段是GBK编码的文字。\n".encode("gbk"))
    raw = read_document(path)
    assert raw.text == "第一段是UTF-8。\n第二段是GBK编码的文字。\n"
    assert raw.encoding == "utf-8+gbk"
    sample = SAMPLE.read_text(encoding="utf-8")  # pasted together in the middle of a line
    data = sample[:1500].encode("gbk") + sample[1500:].encode("utf-8")
    assert decode_bytes(data) == (sample, "utf-8+gbk")


def test_random_bytes_are_not_taken_for_chinese() -> None:
    import random

    rng = random.Random(0)
    decoded = 0
    for _ in range(100):
        data = bytes(rng.randrange(128, 256) for _ in range(rng.randrange(10, 400)))
        try:
            decode_bytes(data)
            decoded += 1
        except InputError as exc:
            assert "decode in no supported encoding" in str(exc) or "binary" in str(exc)
    assert decoded <= 2


# --- other formats -----------------------------------------------------------------------------

def _make_docx(path: Path) -> None:
    from docx import Document

    document = Document()
    document.core_properties.title = "测试报告"
    document.add_paragraph("第一段：全年粮食产量1.4万亿斤。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "数值"
    table.cell(1, 0).text, table.cell(1, 1).text = "城镇新增就业", "1256万人"
    document.add_paragraph("第二段：居民收入稳步增长。")
    document.save(str(path))


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    _make_docx(tmp_path / "report.docx")
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert doc["text"] == ("第一段：全年粮食产量1.4万亿斤。\n指标\t数值\n城镇新增就业\t1256万人\n"
                           "第二段：居民收入稳步增长。")
    assert (doc["format"], doc["encoding"], doc["title"]) == ("docx", "", "测试报告")


def _pdf_with_text(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pylopdf_fonts_zh_cn
    from matplotlib import font_manager

    font = Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"
    font_manager.fontManager.addfont(str(font))
    name = font_manager.FontProperties(fname=str(font)).get_name()
    with plt.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(4, 2))
        fig.text(0.05, 0.6, "Government work report 2024", family="DejaVu Sans")
        fig.text(0.05, 0.3, "政府工作报告 粮食产量", family=name)
        fig.savefig(path, format="pdf")
        plt.close(fig)


def _pdf_image_only(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plt.figure(figsize=(2, 2))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.random.default_rng(0).random((16, 16)))
    ax.axis("off")
    fig.savefig(path, format="pdf")
    plt.close(fig)


def test_pdf_with_text_layer(tmp_path: Path) -> None:
    _pdf_with_text(tmp_path / "report.pdf")
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert "Government work report 2024" in doc["text"]
    assert "政府工作报告 粮食产量" in doc["text"]
    assert doc["format"] == "pdf"
    assert pd.isna(doc["year"])  # no date in the file name "report"; text years are not used


def test_html_article_without_page_chrome(tmp_path: Path) -> None:
    nav = "".join(f"<li><a href='/c{i}'>栏目{i} 政务公开</a></li>" for i in range(12))
    page = (
        "<html><head><meta charset='utf-8'><title>济南日报</title></head><body>"
        f"<nav><ul>{nav}</ul><span>下载 打印 全屏 收藏</span></nav>"
        "<article><h1>济南基层党建迸发新活力</h1>"
        "<p>仲夏时节，走进济南市天桥区，处处可见基层党建的新气象。社区党组织带领居民开展志愿服务，"
        "累计服务群众2278人次。</p>"
        "<p>村里人都知道，葫芦套村有一个“红”管家，帮助村民解决了许多难题，"
        "村集体收入达到40余万元。</p></article>"
        "<footer>版权所有 济南日报社 联系我们 网站地图 鲁ICP备12345678号</footer></body></html>")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert "累计服务群众2278人次。" in doc["text"]
    assert "村集体收入达到40余万元。" in doc["text"]
    for chrome in ("栏目3", "政务公开", "下载 打印", "版权所有", "ICP"):
        assert chrome not in doc["text"]
    assert doc["format"] == "html"


# --- bad input: a clear message naming the file, and the rest of the corpus read ---------------

def _undecodable(path: Path) -> None:
    path.write_bytes("正常的开头。".encode() + b"\x81\x20\xff\xfe\x80\x81" * 40)


def _binary(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50)


def _nul_text(path: Path) -> None:
    path.write_bytes(b"\x00\x01\x02\x03" * 2000)


def _truncated_docx(path: Path) -> None:
    _make_docx(path.with_name("whole.docx.tmp"))
    data = path.with_name("whole.docx.tmp").read_bytes()
    path.with_name("whole.docx.tmp").unlink()
    path.write_bytes(data[: len(data) // 2])


def _protected_docx(path: Path) -> None:  # Word saves encrypted .docx as an OLE container
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)


def _encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    _pdf_with_text(path.with_name("plain.pdf.tmp"))
    writer = PdfWriter(clone_from=PdfReader(path.with_name("plain.pdf.tmp")))
    path.with_name("plain.pdf.tmp").unlink()
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as fh:
        writer.write(fh)


def _malformed_pdf(path: Path) -> None:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage")


def _html_without_article(path: Path) -> None:
    links = "".join(f"<li><a href='/{i}'>栏目{i} 新闻中心</a></li>" for i in range(30))
    path.write_text(f"<html><body><ul>{links}</ul><footer>版权所有 联系我们</footer></body></html>",
                    encoding="utf-8")


BAD_INPUTS = {
    "empty.txt": (lambda p: p.write_bytes(b""), "empty file"),
    "blank.txt": (lambda p: p.write_text(" \n\u3000\n\t\n", encoding="utf-8"), "only whitespace"),
    "photo.txt": (_binary, "binary data"),
    "nuls.txt": (_nul_text, "binary data"),
    "undecodable.txt": (_undecodable, "decode in no supported encoding"),
    "notes.xyz": (lambda p: p.write_text("文本", encoding="utf-8"), "unsupported format '.xyz'"),
    "old.doc": (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 64), "save it as .docx"),
    "truncated.docx": (_truncated_docx, "not a readable .docx"),
    "protected.docx": (_protected_docx, "password-protected"),
    "scan.pdf": (_pdf_image_only, "no text layer"),
    "locked.pdf": (_encrypted_pdf, "encrypted PDF"),
    "broken.pdf": (_malformed_pdf, "not a readable PDF"),
    "menu.html": (_html_without_article, "no article text"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_named_with_its_problem(tmp_path: Path, name: str) -> None:
    make, problem = BAD_INPUTS[name]
    bad = tmp_path / name
    make(bad)
    (tmp_path / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        read_document(bad)
    assert str(bad) in str(excinfo.value)
    assert problem in str(excinfo.value)
    with pytest.warns(SkippedFilesWarning, match=name):
        corpus = load_corpus(tmp_path)
    assert list(corpus.documents["doc_id"]) == ["good"]
    assert list(corpus.skipped["path"]) == [str(bad)]
    assert problem in corpus.skipped["reason"].iloc[0]
    with pytest.raises(InputError, match=problem):
        load_corpus(tmp_path, strict=True)


def test_file_over_size_limit_says_how_to_raise_it(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text(SIMPLIFIED * 20, encoding="utf-8")
    (tmp_path / "small.txt").write_text("短文。", encoding="utf-8")
    corpus = quiet_load(tmp_path, Config(max_file_bytes=1000))
    assert list(corpus.documents["doc_id"]) == ["small"]
    reason = corpus.skipped["reason"].iloc[0]
    assert "over the size limit" in reason and "max_file_bytes" in reason


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text(SIMPLIFIED, encoding="utf-8")
    (tmp_path / "open.txt").write_text(SIMPLIFIED, encoding="utf-8")
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:  # as for a file without read permission (root reads all)
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    corpus = quiet_load(tmp_path)
    assert list(corpus.documents["doc_id"]) == ["open"]
    assert corpus.skipped.to_dict("records") == [
        {"path": str(locked), "reason": "cannot be read (Permission denied)"}]


def test_nothing_readable_gives_empty_corpus_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"")
    corpus = quiet_load([tmp_path / "a.txt", tmp_path / "missing.txt"])
    assert len(corpus) == 0
    assert list(corpus.documents.columns[:len(DOCUMENT_COLUMNS)]) == DOCUMENT_COLUMNS
    assert list(corpus.skipped["reason"]) == ["no such file or folder", "empty file"]


# --- folders, ids, metadata --------------------------------------------------------------------

def test_folder_walk_ids_metadata_and_order(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "b 报告 2024-05-01.txt").write_text("第二篇。", encoding="utf-8")
    (tmp_path / "a.md").write_text("# 标题一\n\n正文。", encoding="utf-8")
    (tmp_path / "sub" / "2026-shandong.txt").write_text("山东。", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "x.txt").write_text("深处。", encoding="utf-8")
    for not_a_document in ("README.md", "MANIFEST.md", "userdict.txt", "stopwords.txt",
                           ".hidden.txt", "~$draft.docx"):
        (tmp_path / not_a_document).write_text("不是文档", encoding="utf-8")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "metadata.csv").write_text(
        "file,title,source,province,year\n"
        "a.md,元数据标题,人民日报,山东省,2020\n"
        "sub/deeper/x.txt,,,,\n", encoding="utf-8")
    corpus = quiet_load(tmp_path)
    docs = corpus.documents
    assert list(docs["doc_id"]) == ["a", "b 报告 2024-05-01", "sub/2026-shandong",
                                    "sub/deeper/x"]
    a = docs.iloc[0]
    assert (a["title"], a["source"], a["province"], a["year"]) == ("元数据标题", "人民日报",
                                                                   "山东省", 2020)
    b = docs.iloc[1]
    assert (b["date"], b["year"], b["title_source"]) == ("2024-05-01", 2024, "headline")
    assert docs.iloc[2]["year"] == 2026
    assert pd.isna(docs.iloc[3]["year"])
    assert docs["year"].dtype == "Int64"
    assert list(corpus.skipped["reason"].str.contains("symbolic link loop")) == [True]
    again = quiet_load(tmp_path)
    pd.testing.assert_frame_equal(docs, again.documents)


def test_metadata_with_doc_id_and_gbk_csv(tmp_path: Path) -> None:
    (tmp_path / "r1.txt").write_text("第一篇报告。", encoding="utf-8")
    (tmp_path / "r2.txt").write_text("第二篇报告。", encoding="utf-8")
    (tmp_path / "metadata.csv").write_bytes(
        "doc_id,file,title,date,author\nreport-one,r1.txt,一号报告,2019-03-05,张三\n"
        "r2,,二号报告,,\n".encode("gbk"))  # saved by Excel on a Chinese Windows
    docs = load_corpus(tmp_path).documents.set_index("doc_id")
    assert docs.loc["report-one", ["title", "date", "author"]].tolist() == ["一号报告",
                                                                            "2019-03-05", "张三"]
    assert docs.loc["report-one", "year"] == 2019
    assert docs.loc["r2", "title"] == "二号报告"


def test_list_of_files_from_two_folders(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "2024.txt").write_text(f"{folder}文件。", encoding="utf-8")
    corpus = load_corpus([tmp_path / "y" / "2024.txt", tmp_path / "x"])
    assert list(corpus.documents["doc_id"]) == ["y/2024", "x/2024"]
    assert corpus.root is None


def test_date_from_file_name() -> None:
    assert date_from_name("2024") == "2024"
    assert date_from_name("2026-shandong") == "2026"
    assert date_from_name("report-2024-05-01") == "2024-05-01"
    assert date_from_name("20240501-news") == "2024-05-01"
    assert date_from_name("2024年5月") == "2024-05"
    assert date_from_name("讲话2019年3月5日") == "2019-03-05"
    assert date_from_name("2024-5-1") == "2024-05-01"
    for no_date in ("law-00001", "cpc20", "npc14-s3", "hust-001", "12024", "2024513"):
        assert date_from_name(no_date) == ""


def test_front_matter_title_and_url(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text(
        "---\naliases:\n  - 党建专栏 | 主题党日\n网址: https://example.org/a\n---\n\n![图片](x.png)\n\n正文。",
        encoding="utf-8")
    doc = load_corpus(tmp_path).documents.iloc[0]
    assert (doc["title"], doc["url"], doc["title_source"]) == ("党建专栏 | 主题党日",
                                                               "https://example.org/a", "md")


def test_awkward_text_files_read_correctly(tmp_path: Path) -> None:
    line = "统计数据" * 500_000  # one 2-million-character line, no newline
    (tmp_path / "long line.txt").write_text(line, encoding="utf-8")
    odd = "开头\u200b零宽\ue000私用😀表情\x00一个NUL。"  # the cleaner deals with these
    (tmp_path / "odd.txt").write_text(odd, encoding="utf-8")
    docs = load_corpus(tmp_path).documents.set_index("doc_id")
    assert docs.loc["long line", "n_chars"] == len(line)
    assert docs.loc["odd", "text"] == odd


def test_from_texts_keeps_interface() -> None:
    corpus = Corpus.from_texts(["一篇。", "另一篇。"])
    assert list(corpus.documents["doc_id"]) == ["doc0", "doc1"]
    assert list(corpus.documents.columns[:len(DOCUMENT_COLUMNS)]) == DOCUMENT_COLUMNS
    assert len(corpus) == 2 and corpus.skipped.empty


# The archive's header holds its entry's date: with December 2025's, its bytes read as
# Japanese (Shift-JIS) kana, which the encoding guess once reported instead of the ZIP.
@pytest.mark.parametrize("date_time", [None, (2025, 12, 1, 0, 0, 0)])
def test_docx_is_a_zip_not_text(tmp_path: Path, date_time) -> None:
    path = tmp_path / "report.txt"  # a Word file saved with the wrong extension
    with zipfile.ZipFile(path, "w") as archive:
        name = "word/document.xml"
        entry = zipfile.ZipInfo(name, date_time=date_time) if date_time else name
        archive.writestr(entry, "<w:document/>" * 100)
    with pytest.raises(InputError, match="ZIP archive"):
        read_document(path)


def test_same_name_different_extension_keeps_both(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("文本版。", encoding="utf-8")
    (tmp_path / "report.md").write_text("Markdown版。", encoding="utf-8")
    docs = load_corpus(tmp_path).documents
    assert list(docs["doc_id"]) == ["report", "report.txt"]  # sorted: report.md comes first
    assert list(docs["text"]) == ["Markdown版。", "文本版。"]


# --- streaming ----------------------------------------------------------------------------------

def test_document_stream_reads_one_file_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """A DocumentStream opens the next file only when the next document is asked for, reports
    unreadable files as it reaches them, and its rows make the table load_corpus gives."""
    import textmine.corpus as corpus_module
    from textmine.corpus import DocumentStream

    for n in range(5):
        (tmp_path / f"r{n}.txt").write_text(f"第{n}份报告\n\n{SIMPLIFIED}", encoding="utf-8")
    (tmp_path / "r2.txt").write_bytes(b"\x00\x01\x02\x03" * 100)  # binary: skipped
    (tmp_path / "metadata.csv").write_text("file,volume\nr1.txt,7\nr4.txt,9\n", encoding="utf-8")
    read = corpus_module.read_document
    opened: list[str] = []

    def counting(path, **options):
        opened.append(Path(path).name)
        return read(path, **options)

    monkeypatch.setattr(corpus_module, "read_document", counting)
    stream = DocumentStream(tmp_path)
    assert len(stream) == 5 and opened == []
    rows = iter(stream)
    first = next(rows)
    assert first["doc_id"] == "r0" and opened == ["r0.txt"]
    rest = list(rows)
    assert opened == [f"r{n}.txt" for n in range(5)]
    assert [r["doc_id"] for r in rest] == ["r1", "r3", "r4"]
    assert stream.skipped_frame()["path"].tolist() == [str(tmp_path / "r2.txt")]
    frame = stream.frame([first, *rest])
    loaded = quiet_load(tmp_path)
    pd.testing.assert_frame_equal(frame, loaded.documents)
    assert frame["volume"].dtype == "Int64"
    pd.testing.assert_frame_equal(stream.skipped_frame(), loaded.skipped)
