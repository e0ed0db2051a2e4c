"""The bad-input catalogue: files researchers really feed the tool, and what must happen to each.

Every case makes its file (or link, pipe, folder) in a scratch folder beside one good report and
is run through the whole chain — `load_corpus`, `clean_corpus`, `tokenize`,
`extract_quantities`, `extract_formulations`. A case either expects its file to be *read*
correctly (and checks the text), or *refused* with a message naming the file and the problem.
Either way nothing may be lost: the good report is read, every file is a document or a listed
skip, and the ledger of every document gives back its raw text exactly.

Used by tests/test_reliability.py (one test a case, a summary at the end) and by
benchmarks/bad_inputs.py (the same table printed on its own).
"""

from __future__ import annotations

import contextlib
import os
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GOOD = ("村里人都知道，葫芦套村有个“红”管家。2023年，全村集体收入达到40余万元，"
        "平均年龄42.7岁的党员志愿者服务群众2278人次。\n突出强村富民 整合资源筑堡垒促振兴\n")
TRADITIONAL = ("現在我代表中央委員會作關於上屆代表會議以來的工作報告。中央委員會的人員太少，"
               "搜集不了很多材料。由於遭受迫害，許多材料也遺失了。\n")
JAPANESE = ("日本語のテキストです。東京都は人口が多い。政府は新しい政策を発表しました。"
            "日本国憲法は、国民主権、基本的人権の尊重、平和主義の三つを基本原理としている。\n")
KOREAN = ("한국어 텍스트입니다. 서울은 인구가 많습니다. 정부는 새로운 정책을 발표했습니다. "
          "대한민국 헌법 제1조 대한민국은 민주공화국이다.\n")
ZERO_WIDTH = GOOD.replace("葫芦套", "\ufeff葫\u200b芦\u200d套\u2060")  # not at the start: a BOM
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class Case:
    """One bad input: how to make it, and what must become of it."""

    name: str
    file: str  # made inside the scratch folder
    make: Callable[[Path], None]
    expect: str  # "read" or "refused"
    problem: str = ""  # refused: a phrase the reason must contain
    text: str | None = None  # read: the text the document must have (None: not checked)
    check: Callable[[Any], bool] | None = None  # read: more checks on the documents row
    config: dict[str, Any] = field(default_factory=dict)
    simulated: str = ""  # how the condition is simulated when it cannot be made for real


@dataclass
class Outcome:
    """What happened to one case."""

    case: str
    expected: str
    handled: str  # read | refused | crashed
    detail: str  # the encoding read, or the reason given
    ok: bool
    lost: int = 0  # files neither read nor listed as skipped
    note: str = ""


# --- makers ------------------------------------------------------------------------------------

def _write(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _text(text: str, codec: str) -> Callable[[Path], None]:
    return _write(text.encode(codec))


def _docx(path: Path) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("第一段：全年粮食产量1.4万亿斤。")
    document.add_paragraph("第二段：居民收入稳步增长。")
    document.save(str(path))


def _truncated_docx(path: Path) -> None:
    _docx(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _pdf(path: Path, text: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plt.figure(figsize=(2, 2))
    if text is None:  # a scan: an image and no text layer
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(np.random.default_rng(0).random((8, 8)))
        ax.axis("off")
    else:
        fig.text(0.1, 0.5, text)
    with plt.rc_context({"pdf.fonttype": 42}):
        fig.savefig(path, format="pdf")
    plt.close(fig)


def _encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    _pdf(path, "Government work report 2024")
    writer = PdfWriter(clone_from=PdfReader(path))
    # (AES would need the `cryptography` package)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as fh:
        writer.write(fh)


def _zip_as_txt(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>" * 200)


def _html_menu(path: Path) -> None:
    links = "".join(f"<li><a href='/{i}'>栏目{i} 新闻中心</a></li>" for i in range(30))
    path.write_text(f"<html><body><ul>{links}</ul><footer>版权所有</footer></body></html>",
                    encoding="utf-8")


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path.parent, target_is_directory=True)  # the folder holds itself


def _broken_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.txt")


def _self_link(path: Path) -> None:
    path.symlink_to(path)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _unreadable(path: Path) -> None:
    path.write_text(GOOD, encoding="utf-8")
    path.chmod(0)


def _unreadable_folder(path: Path) -> None:
    path.mkdir()
    (path / "inside.txt").write_text(GOOD, encoding="utf-8")
    path.chmod(0)


@contextlib.contextmanager
def _refuse_reading(name: str) -> Iterator[None]:
    """As root, permissions do not stop reads: make reading `name` fail as EACCES would."""
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    Path.read_bytes = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        Path.read_bytes = read_bytes  # type: ignore[method-assign]


def _is_traditional(row: Any) -> bool:
    return bool(row["is_traditional"])


CASES: list[Case] = [
    # encodings the loader reads
    Case("UTF-8", "utf8.txt", _text(GOOD, "utf-8"), "read", text=GOOD),
    Case("UTF-8 with BOM", "utf8-bom.txt", _text(GOOD, "utf-8-sig"), "read", text=GOOD),
    Case("UTF-16 LE with BOM", "utf16.txt", _text(GOOD, "utf-16"), "read", text=GOOD),
    Case("UTF-16 BE with BOM", "utf16be-bom.txt", _write(b"\xfe\xff" + GOOD.encode("utf-16-be")),
         "read", text=GOOD),
    Case("UTF-16 LE without BOM", "utf16le.txt", _text(GOOD, "utf-16-le"), "read", text=GOOD),
    Case("UTF-16 BE without BOM", "utf16be.txt", _text(GOOD, "utf-16-be"), "read", text=GOOD),
    Case("UTF-32 with BOM", "utf32.txt", _text(GOOD, "utf-32"), "read", text=GOOD),
    Case("GBK", "gbk.txt", _text(GOOD, "gbk"), "read", text=GOOD),
    Case("GB18030 beyond GBK", "gb18030.txt", _text(GOOD + "䶮𠀀\n", "gb18030"), "read",
         text=GOOD + "䶮𠀀\n"),
    Case("Big5 (traditional)", "big5.txt", _text(TRADITIONAL, "big5"), "read",
         text=TRADITIONAL, check=_is_traditional),
    Case("HZ (7-bit GB2312)", "hz.txt", _text(GOOD.replace("“", "").replace("”", ""), "hz"),
         "read", text=GOOD.replace("“", "").replace("”", "")),
    Case("mixed UTF-8 and GBK", "mixed.txt",
         _write("第一段是UTF-8编码的文字。\n".encode() + GOOD.encode("gbk")), "read",
         text="第一段是UTF-8编码的文字。\n" + GOOD),
    # encodings it refuses rather than misreads
    Case("Shift-JIS (Japanese)", "sjis.txt", _text(JAPANESE, "shift_jis"), "refused",
         "Japanese text in Shift-JIS"),
    Case("EUC-JP (Japanese)", "eucjp.txt", _text(JAPANESE, "euc_jp"), "refused",
         "Japanese text in EUC-JP"),
    Case("EUC-KR (Korean)", "euckr.txt", _text(KOREAN, "euc_kr"), "refused",
         "Korean text in EUC-KR"),
    Case("ISO-2022-JP", "iso2022.txt", _text(JAPANESE, "iso2022_jp"), "refused", "ISO-2022"),
    Case("Windows-1252 (Latin)", "cp1252.txt",
         _text("Café résumé — naïve façade, “quoted”.\n" * 3, "cp1252"), "refused",
         "decode in no supported encoding"),
    Case("KOI8-R (Cyrillic)", "koi8r.txt", _text("Привет мир, это текст на русском.\n", "koi8_r"),
         "refused", "decode in no supported encoding"),
    Case("UTF-8 BOM, then invalid bytes", "badbom.txt", _write(b"\xef\xbb\xbf" + b"\xff\xfe\xfd"),
         "refused", "byte-order mark but is not valid UTF-8-SIG at byte 3"),
    # empty and binary files
    Case("empty file", "empty.txt", _write(b""), "refused", "empty file"),
    Case("whitespace only", "blank.txt", _text(" \n\u3000\n\t\r\n", "utf-8"), "refused",
         "only whitespace"),
    Case("zero-width characters only", "zw.txt", _text("\ufeff\u200b\u200c\u200d\n", "utf-8"),
         "refused", "only whitespace"),
    Case("PNG renamed .txt", "photo.txt", _write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20),
         "refused", "binary data"),
    Case("ZIP (a .docx) renamed .txt", "word.txt", _zip_as_txt, "refused", "ZIP archive"),
    Case("PDF renamed .txt", "paper.txt", lambda p: _pdf(p, "x"), "refused", "it is a PDF"),
    Case("NUL bytes", "nuls.txt", _write(b"\x00\x01\x02\x03" * 500), "refused", "binary data"),
    Case("unsupported extension", "notes.xyz", _text(GOOD, "utf-8"), "refused",
         "unsupported format"),
    Case("old Word .doc", "old.doc", _write(b"\xd0\xcf\x11\xe0" + b"\x00" * 64), "refused",
         "save it as .docx"),
    # documents: Word, PDF, HTML
    Case("truncated .docx", "half.docx", _truncated_docx, "refused", "not a readable .docx"),
    Case("password-protected .docx", "locked.docx",
         _write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024), "refused",
         "password-protected"),
    Case("PDF without text layer", "scan.pdf", lambda p: _pdf(p, None), "refused",
         "no text layer"),
    Case("encrypted PDF", "locked.pdf", _encrypted_pdf, "refused", "encrypted PDF"),
    Case("malformed PDF", "broken.pdf",
         _write(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage"),
         "refused", "not a readable PDF"),
    Case("HTML without an article", "menu.html", _html_menu, "refused", "no article text"),
    # awkward but valid text
    Case("NUL inside text", "nul-inside.txt", _text(GOOD.replace("2023", "20\x0023"), "utf-8"),
         "read", text=GOOD.replace("2023", "20\x0023")),
    Case("zero-width characters", "zero-width.txt",
         _text(ZERO_WIDTH, "utf-8"), "read", text=ZERO_WIDTH),
    Case("private-use characters", "private.txt", _text(GOOD + "\ue000\uf8ff标记。\n", "utf-8"),
         "read", text=GOOD + "\ue000\uf8ff标记。\n"),
    Case("traditional characters (UTF-8)", "trad.txt", _text(TRADITIONAL, "utf-8"), "read",
         text=TRADITIONAL, check=_is_traditional),
    Case("emoji", "emoji.txt", _text(GOOD + "点赞👍🏽👨‍👩‍👧🇨🇳！\n", "utf-8"), "read",
         text=GOOD + "点赞👍🏽👨‍👩‍👧🇨🇳！\n"),
    Case("old Mac line endings (CR)", "cr.txt", _text(GOOD.replace("\n", "\r"), "utf-8"),
         "read", text=GOOD.replace("\n", "\r")),
    Case("Chinese file name with spaces", "政府 工作 报告 2024.txt", _text(GOOD, "utf-8"),
         "read", text=GOOD, check=lambda row: row["doc_id"] == "政府 工作 报告 2024"
         and row["year"] == 2024),
    Case("a 400,000-character line", "long-line.txt",
         lambda p: p.write_text(GOOD.replace("\n", "") * 5_000, encoding="utf-8"), "read",
         check=lambda row: row["n_chars"] == 5_000 * len(GOOD.replace("\n", ""))),
    # the file system
    Case("symbolic link loop", "loop", _symlink_loop, "refused", "symbolic link loop"),
    Case("broken symbolic link", "dangling.txt", _broken_link, "refused",
         "broken symbolic link (-> "),
    Case("link to itself", "self.txt", _self_link, "refused", "loops back on itself"),
    Case("named pipe", "pipe.txt", _fifo, "refused", "not a regular file"),
    Case("unreadable file (chmod 000)", "secret.txt", _unreadable, "refused", "Permission denied",
         simulated="as root permissions do not stop reads: reading is made to fail with EACCES"
         if IS_ROOT else ""),
    Case("unreadable folder (chmod 000)", "closed", _unreadable_folder, "refused",
         "Permission denied", simulated="skipped: as root permissions do not stop reads"
         if IS_ROOT else ""),
    Case("over the size limit", "big.txt", _text(GOOD * 40, "utf-8"), "refused",
         "over the size limit of 2,000 bytes; raise it with `max_file_bytes = ",
         config={"max_file_bytes": 2000}),
]


# --- running a case ----------------------------------------------------------------------------

def _lost(folder: Path, docs: Any, skipped: Any) -> int:
    """Entries of the folder of which nothing was read and nothing was listed as skipped."""
    seen = [*docs["path"], *skipped["path"]]
    return sum(1 for p in folder.iterdir() if not p.name.startswith(".")
               and not any(s == str(p) or s.startswith(str(p) + os.sep) for s in seen))


def stage_problems(clean: Any, tokenizer: Any) -> list[str]:
    """Run tokenize, quantities and formulations; the offset and accounting rules they break."""
    from textmine.clean import clean_text
    from textmine.formulations import extract_formulations
    from textmine.quantities import extract_quantities
    from textmine.segment import tokenize

    problems = []
    texts = clean.texts()
    for raw, text in zip(clean.documents["raw_text"], clean.documents["text"], strict=True):
        doc = clean_text(raw)
        if doc.text != text or doc.restore_raw() != raw:
            problems.append("ledger does not give back the raw text")
    tokens = tokenize(clean, tokenizer, use_cache=False)
    figures = extract_quantities(clean)
    formulations = extract_formulations(clean)
    for name, table, column in (("tokens", tokens, "token"), ("quantities", figures, "surface"),
                                ("formulations", formulations, "surface")):
        for doc_id, start, end, surface in zip(table["doc_id"], table["start"], table["end"],
                                               table[column], strict=True):
            if texts[doc_id][start:end] != surface:
                problems.append(f"{name}: offsets {start}:{end} do not give {surface!r}")
                break
    return problems


def run_case(case: Case, folder: Path, tokenizer: Any) -> Outcome:
    """Make the case's input beside a good report and run the whole chain on the folder."""
    from textmine.clean import clean_corpus
    from textmine.config import Config
    from textmine.corpus import InputError, SkippedFilesWarning, load_corpus, read_document

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    target = folder / case.file
    case.make(target)
    if case.simulated.startswith("skipped"):
        target.chmod(0o755)
        return Outcome(case.name, case.expect, "not run", case.simulated, True)
    guard = _refuse_reading(target.name) if case.simulated else contextlib.nullcontext()
    try:
        with guard, warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedFilesWarning)
            corpus = load_corpus(folder, Config(**case.config))
            if target.is_file() and not target.is_symlink() and case.expect == "refused" \
                    and not case.config and "pipe" not in case.file:
                try:
                    read_document(target)
                    direct = "read"
                except InputError as exc:
                    direct = str(exc)
            else:
                direct = ""
    except Exception as exc:  # noqa: BLE001 - a crash is the outcome being reported
        return Outcome(case.name, case.expect, "crashed", f"{type(exc).__name__}: {exc}", False)
    finally:
        for p in (target, *(target.iterdir() if target.is_dir() and not target.is_symlink()
                            else ())):
            if not p.is_symlink() and p.exists():
                p.chmod(0o755 if p.is_dir() else 0o644)

    docs = corpus.documents
    skipped = corpus.skipped
    lost = _lost(folder, docs, skipped)
    good_read = (folder / "good.txt").as_posix() in set(docs["path"])
    mine = docs[docs["path"].str.startswith(str(target))]
    reasons = skipped[skipped["path"].str.startswith(str(target))]["reason"].tolist()
    notes = []
    if not good_read:
        notes.append("the good report was not read")
    if lost > 0:
        notes.append(f"{lost} file(s) neither read nor listed")
    if case.expect == "read":
        handled = "read" if len(mine) else ("refused" if reasons else "lost")
        detail = (mine["encoding"].iloc[0] or mine["format"].iloc[0]) if len(mine) else \
            "; ".join(reasons)
        ok = len(mine) == 1
        if ok and case.text is not None and mine["text"].iloc[0] != case.text:
            ok = False
            notes.append("text read wrongly")
        if ok and case.check is not None and not case.check(mine.iloc[0]):
            ok = False
            notes.append("check failed")
    else:
        handled = "refused" if reasons else ("read" if len(mine) else "lost")
        detail = "; ".join(reasons) if reasons else (mine["encoding"].iloc[0] if len(mine)
                                                      else "")
        ok = bool(reasons) and all(case.problem in r for r in reasons[:1]) and not len(mine)
        if direct and (str(target) not in direct or case.problem not in direct):
            ok = False
            notes.append(f"read_document message does not name the file and problem: {direct}")
    if len(docs):
        clean = clean_corpus(corpus)
        problems = stage_problems(clean, tokenizer)
        if problems:
            ok = False
            notes.extend(problems)
    if case.simulated:
        notes.append(f"simulated: {case.simulated}")
    return Outcome(case.name, case.expect, handled, detail, ok and good_read and lost <= 0,
                   max(lost, 0), "; ".join(notes))


def summary(outcomes: list[Outcome]) -> str:
    """A table of how every bad input was handled, and the totals."""
    lines = [f"{'input':34} {'expected':8} {'handled':8} {'ok':3} detail"]
    for o in outcomes:
        detail = (o.detail if len(o.detail) <= 90 else o.detail[:87] + "...")
        lines.append(f"{o.case:34} {o.expected:8} {o.handled:8} {'yes' if o.ok else 'NO':3} "
                     f"{detail}" + (f"  [{o.note}]" if o.note else ""))
    n_read = sum(o.handled == "read" for o in outcomes)
    n_refused = sum(o.handled == "refused" for o in outcomes)
    n_crashed = sum(o.handled == "crashed" for o in outcomes)
    n_lost = sum(o.lost for o in outcomes)
    n_ok = sum(o.ok for o in outcomes)
    lines.append(f"bad inputs tried: {len(outcomes)}; read correctly: {n_read}; refused with "
                 f"a reason: {n_refused}; crashed: {n_crashed}; files lost: {n_lost}; "
                 f"as expected: {n_ok}/{len(outcomes)}")
    return "\n".join(lines)
