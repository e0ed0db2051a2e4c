"""Loading reports: a folder or a list of files → a `Corpus` whose `.documents` is a DataFrame.

Formats, encodings and metadata are resolved here; nothing is cleaned (see `textmine.clean`).

* Text (`.txt`, `.md`): UTF-8 (with or without BOM), UTF-16/32 with a BOM, BOM-less UTF-16,
  GB18030/GBK and Big5. Strict UTF-8 is tried first (the common case, and fast); then BOMs;
  only then `charset-normalizer`, limited to the Chinese encodings. The `encoding` column holds
  a Python codec name that turns the file's bytes back into the document's text.
* `.docx` (paragraphs and table rows in document order), `.pdf` with a text layer, `.html` /
  `.htm` (the article, page chrome removed, via trafilatura).
* Metadata from the nearest `metadata.csv` (matched by its `file` or `doc_id` column), else from
  the document (front matter, HTML metadata, headline as title) and the file name (a date or a
  year in it).
* A file that cannot be used never stops the corpus: it goes to `Corpus.skipped` with the reason,
  and one `SkippedFilesWarning` lists the skipped files.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from textmine.config import Config

DOCUMENT_COLUMNS = ["doc_id", "title", "date", "source", "author", "path", "encoding",
                    "n_chars", "text"]
#: Columns every loaded corpus has after DOCUMENT_COLUMNS (metadata columns follow them).
EXTRA_COLUMNS = ["url", "year", "format", "title_source", "is_traditional", "traditional_share",
                 "converted", "original_text"]
SKIPPED_COLUMNS = ["path", "reason"]

TEXT_SUFFIXES = (".txt", ".md", ".text", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf", ".html", ".htm", ".xhtml")
#: Files of a corpus folder that are not documents (compared case-insensitively).
NON_DOCUMENT_NAMES = frozenset({"metadata.csv", "userdict.txt", "stopwords.txt", "readme.md",
                                "readme.txt", "manifest.md", "license", "license.txt",
                                "licence.txt", "textmine.toml"})
#: A document is flagged as traditional when at least this share of its Chinese characters
#: changes under OpenCC's traditional → simplified conversion.
TRADITIONAL_SHARE = 0.05

_STANDARD_METADATA = ("doc_id", "file", "title", "date", "source", "author", "url")
#: Metadata columns that fill a standard column when that one is blank (the original is kept).
_METADATA_ALIASES = {"date": ("publish_date", "pub_date", "published"),
                     "source": ("publisher", "outlet"),
                     "url": ("source_url", "wikisource_url", "link")}
_CHINESE_ENCODINGS = ["gb18030", "big5", "cp950", "utf_16_le", "utf_16_be"]
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # not tab, newlines, form feed
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DATE_IN_NAME = re.compile(
    r"(?<!\d)((?:19|20)\d\d)"
    r"(?:(?:[-_.年](0?[1-9]|1[0-2])|(0[1-9]|1[0-2]))"
    r"(?:(?:[-_.月](0?[1-9]|[12]\d|3[01])|(0[1-9]|[12]\d|3[01]))日?)?)?(?!\d)")
_ASCII_BYTES = bytes(range(128))
_SAMPLE_BYTES = 1 << 20
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


class InputError(Exception):
    """A file that cannot be read; the message names the file and the problem."""


class SkippedFilesWarning(UserWarning):
    """Some files of a corpus could not be read; `Corpus.skipped` says which and why."""


@dataclass
class RawDocument:
    """One file's text as read, before cleaning, with what the file itself says about it."""

    text: str
    encoding: str  # Python codec of the bytes ("" for .docx/.pdf, which have no text encoding)
    format: str  # txt | md | docx | pdf | html
    metadata: dict[str, str] = field(default_factory=dict)  # title/date/author/url/source found


@dataclass
class Corpus:
    """Documents as loaded (raw text) and the files that could not be read, with why."""

    documents: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    root: Path | None = None

    def __len__(self) -> int:
        return len(self.documents)

    @classmethod
    def from_texts(cls, texts: dict[str, str] | list[str]) -> Corpus:
        """A corpus from strings in memory (doc_id → text, or a list: doc0, doc1, …)."""
        if not isinstance(texts, dict):
            texts = {f"doc{i}": t for i, t in enumerate(texts)}
        rows = []
        for doc_id, text in texts.items():
            share = traditional_share(text)
            rows.append({"doc_id": str(doc_id), "title": "", "date": "", "source": "",
                         "author": "", "path": "", "encoding": "", "n_chars": len(text),
                         "text": text, "url": "", "year": None, "format": "text",
                         "title_source": "", "is_traditional": share >= TRADITIONAL_SHARE,
                         "traditional_share": share, "converted": False, "original_text": None})
        return cls(_documents_frame(rows, []))


# ---------------------------------------------------------------------------------------------
# Decoding text files


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _control_share(text: str) -> float:
    """Share of characters that are control characters (other than tab, newlines, form feed)."""
    sample = text[:200_000]
    if not sample:
        return 0.0
    return len(_CONTROL.findall(sample)) / len(sample)


def _plausible_text(text: str) -> bool:
    """Whether decoded text looks like writing (Chinese, Latin, digits, punctuation)."""
    sample = text[:20_000]
    if not sample:
        return False
    good = 0
    for ch in sample:
        cat = unicodedata.category(ch)
        if cat[0] in "LNPZ" and cat != "Lo" or ch in "\n\r\t" or _CJK.match(ch):
            good += 1
    return good / len(sample) >= 0.9


def _binary_hint(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return " (it is a ZIP archive, e.g. a .docx: give it the right extension)"
    if data.startswith(b"%PDF"):
        return " (it is a PDF: give it the .pdf extension)"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return " (it is an old Office file, e.g. .doc: save it as .docx)"
    if data[:8] in (b"\x89PNG\r\n\x1a\n",) or data[:3] == b"\xff\xd8\xff":
        return " (it is an image)"
    return ""


def _binary_error(path: Path, data: bytes, why: str) -> InputError:
    return InputError(f"{path}: binary data, not text ({why}){_binary_hint(data)}")


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Text and codec if the bytes read as BOM-less UTF-16 (LE or BE), else None."""
    if len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if not (_plausible_text(text) and _control_share(text) < 0.001):
            continue
        # Two-byte legacy text (Shift-JIS kanji, say) also reads as UTF-16 made of rare
        # ideographs: real UTF-16 has ASCII (bytes 00) or mostly common Chinese characters.
        if sum(ch < "\x80" for ch in text[:20_000]) >= 1 or _common_hanzi_share(text) >= 0.5:
            return text, codec
    return None


def _canonical_codec(name: str, data: bytes) -> str:
    name = name.lower().replace("_", "-")
    if name in ("gb18030", "gbk", "gb2312", "hz", "cp936"):
        try:
            data.decode("gbk")
            return "gbk"
        except UnicodeDecodeError:
            return "gb18030"
    if name in ("big5", "cp950", "big5hkscs"):
        try:
            data.decode("big5")
            return "big5"
        except UnicodeDecodeError:
            return name
    return name


#: Characters that say nothing about the encoding: punctuation, spaces, decimal digits.
_NEUTRAL_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp",
                                 "Nd"})


@lru_cache(maxsize=65536)
def _is_common_hanzi(ch: str) -> bool:
    """In GB2312's level-1 set (3,755 common simplified) or Big5's frequent set (5,401)."""
    for codec, low, high in (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6)):
        try:
            if low <= ch.encode(codec)[0] <= high:
                return True
        except UnicodeEncodeError:
            pass
    return False


def _common_hanzi_share(text: str) -> float:
    """Share of common Chinese characters among the non-ASCII letters: high for a correct
    decoding, low when bytes were read in the wrong encoding (rare characters, kana, Greek)."""
    sample = [ch for ch in text[:20_000]
              if ch > "\x7f" and unicodedata.category(ch) not in _NEUTRAL_CATEGORIES]
    if not sample:
        return 0.0
    return sum(map(_is_common_hanzi, sample)) / len(sample)


def _detect_chinese(data: bytes) -> tuple[str, str] | None:
    """Text and codec of bytes in a Chinese legacy encoding (GB18030/GBK, Big5) or UTF-16.

    charset-normalizer decides among the encodings that decode the bytes strictly; when it
    finds none plausible (it distrusts long runs of Chinese without spaces), the decoding with
    the largest share of common Chinese characters wins, if that share is high enough.
    """
    from charset_normalizer import from_bytes

    sample = data[:_SAMPLE_BYTES]  # large files: choose on the first megabyte, then decode all
    candidates: dict[str, str] = {}
    for codec in ("gb18030", "big5", "cp950", "utf-16-le", "utf-16-be"):
        if codec.startswith("utf-16") and len(data) % 2:
            continue
        try:
            decoder = codecs.getincrementaldecoder(codec)()
            candidates[codec] = decoder.decode(sample, final=len(sample) == len(data))
        except UnicodeDecodeError:
            continue
    if "big5" in candidates:
        candidates.pop("cp950", None)
    if not candidates:
        return None
    codec = ""
    if len(candidates) > 1:
        best = from_bytes(sample, cp_isolation=list(candidates)).best()
        if best is not None and best.encoding.replace("_", "-") in candidates:
            codec = best.encoding.replace("_", "-")
    if not codec:
        scores = {c: _common_hanzi_share(text) for c, text in candidates.items()}
        codec = max(scores, key=lambda c: (scores[c], c == "gb18030"))
        if scores[codec] < 0.5 or _control_share(candidates[codec]) > 0.01:
            return None
    try:
        text = candidates[codec] if len(sample) == len(data) else data.decode(codec)
    except UnicodeDecodeError:
        return None
    return text, _canonical_codec(codec, data)


def _count_non_ascii(data: bytes) -> int:
    return len(data.translate(None, _ASCII_BYTES))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_UTF8_ISLAND = re.compile(  # 3+ UTF-8 encoded CJK-range characters, with ASCII around them
    rb"(?:[\xe0-\xef][\x80-\xbf]{2}[\x00-\x7f]*){3,}")


def _decode_mixed(data: bytes) -> tuple[str, str] | None:
    """Stretches of UTF-8 mixed with stretches of one Chinese legacy encoding (files pasted
    together from different sources); None unless the bytes are clearly such a mixture."""
    islands = [m for m in _UTF8_ISLAND.finditer(data) if _is_utf8(m.group())]
    non_ascii = _count_non_ascii(data)
    in_islands = sum(_count_non_ascii(m.group()) for m in islands)
    if not islands or non_ascii == 0 or in_islands < 0.1 * non_ascii or in_islands == non_ascii:
        return None
    pieces: list[tuple[bool, bytes]] = []  # (is_utf8, bytes)
    pos = 0
    for m in islands:
        if m.start() > pos:
            pieces.append((False, data[pos:m.start()]))
        pieces.append((True, m.group()))
        pos = m.end()
    if pos < len(data):
        pieces.append((False, data[pos:]))
    legacy = [chunk for is_utf8, chunk in pieces if not is_utf8 and not chunk.isascii()]
    found = _detect_chinese(b"\n".join(legacy)) if legacy else None
    if found is None:
        return None
    codec = found[1]
    try:
        text = "".join(chunk.decode("utf-8" if is_utf8 else codec) for is_utf8, chunk in pieces)
    except UnicodeDecodeError:
        return None
    return text, f"utf-8+{codec}"


_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_ISO2022 = re.compile(rb"\x1b(?:\$[@AB]|\$\([CDQ]|\$\)[CAG]|\(J|\(I)")
#: Japanese and Korean legacy encodings whose bytes also decode as GBK (or as UTF-16): each
#: with the test that its own decoding is the right one.
_FOREIGN_CJK = (("cp932", "Japanese text in Shift-JIS"), ("euc_jp", "Japanese text in EUC-JP"),
                ("cp949", "Korean text in EUC-KR/CP949"))


def _foreign_cjk(data: bytes) -> str | None:
    """What the bytes are when they are clearly Japanese or Korean in a legacy encoding.

    Such bytes also decode as GBK (or BOM-less UTF-16) into plausible-looking but wrong Chinese,
    so they are recognised first: Japanese by its kana, Korean by its Hangul and the spaces
    between words, each confirmed by charset-normalizer against GB18030 and Big5.
    """
    sample = data[:_SAMPLE_BYTES]
    for codec, what in _FOREIGN_CJK:
        try:
            text = codecs.getincrementaldecoder(codec)().decode(
                sample, final=len(sample) == len(data))[:20_000]
        except UnicodeDecodeError:
            continue
        letters = [ch for ch in text if ch > "\x7f"
                   and unicodedata.category(ch) not in _NEUTRAL_CATEGORIES]
        if len(letters) < 4:
            continue
        if codec == "cp949":
            n_hangul = len(_HANGUL.findall(text))
            if n_hangul < max(16, 0.9 * len(letters)) or text.count(" ") < 0.1 * n_hangul:
                continue
        elif len(_KANA.findall(text)) < 0.15 * len(letters):
            # kanji only: Japanese when its reading has common characters and GBK's has not
            try:
                as_gbk = codecs.getincrementaldecoder("gb18030")().decode(sample)[:20_000]
            except UnicodeDecodeError:
                as_gbk = ""
            if _common_hanzi_share(text) >= 0.8 and _common_hanzi_share(as_gbk) < 0.5:
                return what
            continue
        from charset_normalizer import from_bytes

        best = from_bytes(sample[:65536], cp_isolation=[codec, "gb18030", "big5"]).best()
        if best is None or best.encoding.replace("-", "_") not in ("gb18030", "big5"):
            return what
    return None


def _unsupported_encoding(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what}, not a supported encoding (UTF-8, UTF-16, GB18030/GBK, "
                      "Big5); re-save the file as UTF-8 (e.g. `iconv -f ENCODING -t UTF-8`)")


def decode_bytes(data: bytes, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode a text file's bytes; returns (text, codec) or raises InputError naming `path`.

    Order: the signatures of binary formats (ZIP, PDF, OLE, PNG, JPEG), byte-order marks,
    strict UTF-8, BOM-less UTF-16, then charset-normalizer limited to GB18030/GBK, Big5 and
    UTF-16; UTF-8 stretches mixed with GBK ones are read too.
    """
    path = Path(path)
    if _binary_hint(data):  # another format's signature: no encoding guess may read it as text
        raise _binary_error(path, data, "its first bytes are another file format's signature")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}: starts with a {codec.upper()} byte-order mark but is "
                                 f"not valid {codec.upper()} at byte "
                                 f"{exc.start + (len(bom) if codec == 'utf-8-sig' else 0)} "
                                 "(truncated or damaged file?)") from None
            return _check_text(text, data, path), codec
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:
        if "\x1b" in text and _ISO2022.search(data):
            raise _unsupported_encoding(path, "7-bit ISO-2022 (Japanese/Korean/Chinese e-mail "
                                              "encoding) escape sequences")
        if "~{" in text and text.isascii():  # HZ: GB2312 in 7 bits (old Usenet and e-mail)
            try:
                hz = data.decode("hz")
            except UnicodeDecodeError:
                hz = text
            if hz != text and _common_hanzi_share(hz) >= 0.5:
                return _check_text(hz, data, path), "hz"
        if "\x00" in text[:65536]:
            utf16 = _decode_utf16_without_bom(data)
            if utf16 is not None:
                return _check_text(utf16[0], data, path), utf16[1]
        return _check_text(text, data, path), "utf-8"
    foreign = _foreign_cjk(data)
    if foreign is not None:
        raise _unsupported_encoding(path, f"looks like {foreign}")
    utf16 = _decode_utf16_without_bom(data)
    if utf16 is not None:
        return _check_text(utf16[0], data, path), utf16[1]
    if data.count(0) > len(data) // 1000:
        raise _binary_error(path, data, f"{data.count(0):,} NUL bytes")
    found = _decode_mixed(data) or _detect_chinese(data)
    if found is None:
        start = utf8_error.start
        raise InputError(
            f"{path}: bytes that decode in no supported encoding (UTF-8 fails at byte {start}: "
            f"{data[start:start + 8]!r}; GB18030/GBK, Big5 and UTF-16 fail too); re-save the "
            "file as UTF-8")
    text, codec = found
    return _check_text(text, data, path), codec


def _check_text(text: str, data: bytes, path: Path) -> str:
    share = _control_share(text)
    if share > 0.1 or share > 0.01 and share * min(len(text), 200_000) >= 4:
        raise _binary_error(path, data, f"{share:.0%} control characters")
    if not text.strip(" \t\n\r\f\v\u3000" + _ZERO_WIDTH):
        raise InputError(f"{path}: empty file" if not text else
                         f"{path}: contains only whitespace ({len(text):,} characters)")
    return text


# ---------------------------------------------------------------------------------------------
# Other formats


def _read_docx(path: Path) -> RawDocument:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: password-protected (encrypted) or old-format Word file; "
                         "open it in Word or LibreOffice and save it unprotected as .docx")
    try:
        document = Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .docx (truncated or damaged: "
                         f"{type(exc).__name__}: {exc})") from None
    except Exception as exc:  # lxml and zip errors of many kinds on damaged files
        raise InputError(f"{path}: not a readable .docx ({type(exc).__name__}: {exc})") from None
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep each once
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):
                        cells.append(text)
                if cells:
                    lines.append("\t".join(cells))
    text = "\n".join(lines)
    _check_text(text, b"", path)
    title = _usable_title(document.core_properties.title)
    # the file's `author` property names whoever made the file, not the report's author
    return RawDocument(text, "", "docx", {"title": title} if title else {})


def _read_pdf(path: Path) -> RawDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{path}: encrypted PDF (password-protected); save an unprotected "
                             "copy first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{path}: not a readable PDF (damaged or truncated: "
                         f"{type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pypdf raises many kinds on malformed or encrypted files
        if "crypt" in str(exc).lower() or "AES" in str(exc):
            raise InputError(f"{path}: encrypted PDF that cannot be opened ({exc})") from None
        raise InputError(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    text = "\n\n".join(p.strip("\n") for p in pages)
    if not text.strip():
        raise InputError(f"{path}: PDF has no text layer ({len(pages)} page(s) of images only, "
                         "e.g. a scan); run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`)")
    title = _usable_title((reader.metadata or {}).get("/Title"))
    return RawDocument(text, "", "pdf", {"title": title} if title else {})


def _usable_title(value: object) -> str:
    """A file's title property, unless it is a placeholder (Word template names, "untitled")."""
    title = str(value or "").strip()
    lowered = title.lower()
    if len(title) < 4 or lowered.startswith(("microsoft word", "untitled", "无标题")) or \
            lowered.endswith((".doc", ".docx", ".pdf", ".wps")):
        return ""
    return title


def _looks_like_article(text: str) -> bool:
    """At least one sentence-like line: page chrome (menus, footers) has none."""
    return len(re.sub(r"\s", "", text)) >= 30 and bool(re.search(r"[^\n]{15,}[。！？!?.]", text))


def _read_html(path: Path, data: bytes) -> RawDocument:
    import trafilatura

    markup, codec = decode_bytes(data, path)
    options = {"with_metadata": True, "include_comments": False, "include_tables": True,
               "favor_precision": True,
               "date_extraction_params": {"extensive_search": False, "original_date": True}}
    result, text = None, ""
    for fast in (True, False):  # the article extractor alone first, then with its fallbacks
        try:
            result = trafilatura.bare_extraction(markup, fast=fast, **options)
        except Exception as exc:  # lxml/trafilatura errors on malformed markup
            raise InputError(f"{path}: HTML that cannot be parsed ({type(exc).__name__}: "
                             f"{exc})") from None
        text = (getattr(result, "text", None) or "").strip() if result is not None else ""
        if _looks_like_article(text):
            break
    else:
        raise InputError(f"{path}: no article text found in the HTML page (only navigation "
                         "or page chrome); save the article itself or copy its text to .txt")
    meta = {}
    for name in ("title", "author", "date", "url"):
        value = getattr(result, name, None)
        if value:
            meta[name] = str(value).strip()
    if getattr(result, "sitename", None):
        meta["source"] = str(result.sitename).strip()
    return RawDocument(text, codec, "html", meta)


def _front_matter(text: str) -> dict[str, str]:
    """title/url/date/author from a Markdown YAML front matter (`---` … `---`), if any."""
    stripped = text.lstrip(_ZERO_WIDTH + " \n")
    if not stripped.startswith("---\n"):
        return {}
    end = stripped.find("\n---", 4)
    if end < 0 or end > 5000:
        return {}
    meta: dict[str, str] = {}
    key = ""
    for line in stripped[4:end].splitlines():
        m = re.match(r"^([^\s:][^:]*):\s*(.*)$", line)
        if m:
            key, value = m.group(1).strip().lower(), m.group(2).strip().strip("'\"")
        elif key and line.strip().startswith("- "):
            value = line.strip()[2:].strip().strip("'\"")
        else:
            continue
        name = {"title": "title", "aliases": "title", "网址": "url", "url": "url",
                "link": "url", "date": "date", "日期": "date", "author": "author",
                "作者": "author", "source": "source", "来源": "source"}.get(key)
        if name and value and name not in meta:
            meta[name] = value
    return meta


def read_document(path: str | Path, *, max_file_bytes: int | None = None) -> RawDocument:
    """Read one file of a supported format; raises InputError naming the file and the problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".doc":
        raise InputError(f"{path}: old Word .doc format is not supported; open it in Word or "
                         "LibreOffice and save it as .docx")
    if suffix not in SUPPORTED_SUFFIXES:
        kind = f"'{path.suffix}'" if path.suffix else "(no file extension)"
        raise InputError(f"{path}: unsupported format {kind}; supported: "
                         f"{', '.join(SUPPORTED_SUFFIXES)}")
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # reading a named pipe or a device would block
            raise InputError(f"{path}: not a regular file (a named pipe, device or socket); "
                             "copy its contents to a file first")
        size = st.st_size
        if max_file_bytes is not None and size > max_file_bytes:
            raise InputError(
                f"{path}: {_mb(size)}, over the size limit of {_mb(max_file_bytes)}; raise it "
                f"with `max_file_bytes = {size + 1}` in the settings TOML (--config) or "
                "Config(max_file_bytes=...), or split the file")
        if suffix == ".docx":
            return _read_docx(path)
        if suffix == ".pdf":
            return _read_pdf(path)
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise InputError(f"{path}: empty file")
    if suffix in (".html", ".htm", ".xhtml"):
        return _read_html(path, data)
    text, codec = decode_bytes(data, path)
    return RawDocument(text, codec, suffix.lstrip(".").replace("text", "txt")
                       .replace("markdown", "md"), _front_matter(text))


# ---------------------------------------------------------------------------------------------
# Traditional characters


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified_text(text: str) -> str:
    """Convert traditional Chinese characters to simplified (OpenCC t2s, phrase-aware)."""
    return _t2s().convert(text)


@lru_cache(maxsize=1)
def _traditional_chars() -> re.Pattern[str]:
    """The characters that OpenCC t2s changes on their own: a quick test before converting."""
    chars = [chr(c) for start, end in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
             for c in range(start, end + 1)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    changed = [a for a, b in zip(chars, converted, strict=True) if a != b]
    return re.compile("[" + "".join(changed) + "]")


def traditional_share(text: str) -> float:
    """Share of the Chinese characters of `text` that OpenCC t2s changes (0 for simplified)."""
    if not _traditional_chars().search(text):
        return 0.0
    converted = to_simplified_text(text)
    if converted == text:
        return 0.0
    n_cjk = len(_CJK.findall(text))
    if n_cjk == 0:
        return 0.0
    if len(converted) == len(text):
        before = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        after = np.frombuffer(converted.encode("utf-32-le"), dtype=np.uint32)
        changed = int((before != after).sum())
    else:  # phrase conversions changed the length: count character by character
        convert = _t2s().convert
        changed_chars = {ch for ch in set(_CJK.findall(text)) if convert(ch) != ch}
        changed = sum(1 for ch in text if ch in changed_chars)
    return round(min(changed / n_cjk, 1.0), 4)


# ---------------------------------------------------------------------------------------------
# Titles and dates


def headline(text: str) -> str:
    """The first line that looks like a headline: short, not chrome, not a sentence fragment."""
    body = text
    if _front_matter(text):
        stripped = text.lstrip(_ZERO_WIDTH + " \n")
        body = stripped[stripped.find("\n---", 4) + 4:]
    for n, raw_line in enumerate(body.splitlines()):
        if n > 60:
            break
        line = raw_line.strip(" \t\u3000" + _ZERO_WIDTH).lstrip("#>*- ").rstrip("*# ").strip()
        if not 4 <= len(line) <= 60 or not re.search(r"[\w\u4e00-\u9fff]", line):
            continue
        if re.match(r"^(!?\[|<|https?://|www\.|来源|时间|作者|责任编辑|【|\(|（)", line):
            continue
        if line[-1] in "，,、：:；;（(" or line.endswith("。") and len(line) > 30:
            continue
        return line
    return ""


def date_from_name(name: str) -> str:
    """A date in a file name: 2024 → "2024", 2024-05 → "2024-05", report-20240501 → "2024-05-01"."""
    m = _DATE_IN_NAME.search(name)
    if m is None:
        return ""
    year, month, day = m.group(1), m.group(2) or m.group(3), m.group(4) or m.group(5)
    return "-".join([year] + [part.zfill(2) for part in (month, day) if part])


def _year_of(value: Any) -> int | None:
    m = re.match(r"^\s*((?:1[5-9]|20|21)\d\d)", str(value or ""))
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# Files, folders and metadata


def _walk(folder: Path, skipped: list[dict[str, str]]) -> list[Path]:
    """Document files below `folder`, sorted, skipping hidden and non-document files."""
    files: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def visit(directory: Path) -> None:
        try:
            st = directory.stat()
        except OSError as exc:
            skipped.append({"path": str(directory), "reason": f"folder cannot be read "
                            f"({exc.strerror or exc})"})
            return
        if (st.st_dev, st.st_ino) in seen:
            skipped.append({"path": str(directory), "reason": "folder already read through "
                            "another path (symbolic link loop); not read twice"})
            return
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append({"path": str(directory), "reason": f"folder cannot be read "
                            f"({exc.strerror or exc})"})
            return
        for entry in entries:
            if entry.name.startswith((".", "~$")) or entry.name == "__pycache__":
                continue
            p = Path(entry.path)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                visit(p)
            elif is_file:
                if entry.name.lower() not in NON_DOCUMENT_NAMES:
                    files.append(p)
            else:
                skipped.append({"path": str(p), "reason": _not_a_file(p)})

    visit(folder)
    return files


def _not_a_file(path: Path) -> str:
    """Why a folder entry that is neither a file nor a folder cannot be read."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        try:
            path.stat()
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                return f"symbolic link that loops back on itself (-> {target})"
            return f"broken symbolic link (-> {target}: {exc.strerror or exc})"
    return "not a regular file (a named pipe, device or socket)"


def _read_metadata(csv_path: Path, skipped: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """metadata.csv rows keyed by file path (relative to its folder) and by doc_id."""
    try:
        text, _ = decode_bytes(csv_path.read_bytes(), csv_path)
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (InputError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        skipped.append({"path": str(csv_path), "reason": f"metadata not used: {exc}"})
        return {}
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    if "file" not in table.columns and "doc_id" not in table.columns:
        skipped.append({"path": str(csv_path), "reason": "metadata not used: it needs a `file` "
                        "or a `doc_id` column"})
        return {}
    rows: dict[str, dict[str, str]] = {}
    for record in table.to_dict("records"):
        record = {k: str(v).strip() for k, v in record.items()}
        if record.get("file"):
            rows.setdefault("file:" + record["file"].replace("\\", "/").removeprefix("./"), record)
        if record.get("doc_id"):
            rows.setdefault("id:" + record["doc_id"], record)
    return rows


class _MetadataIndex:
    """Finds a file's metadata row in the nearest metadata.csv of its folder or above."""

    def __init__(self, skipped: list[dict[str, str]]):
        self.skipped = skipped
        self.tables: dict[Path, dict[str, dict[str, str]]] = {}
        self.columns: list[str] = []

    def table(self, folder: Path) -> dict[str, dict[str, str]]:
        if folder not in self.tables:
            csv_path = folder / "metadata.csv"
            self.tables[folder] = _read_metadata(csv_path, self.skipped) if csv_path.is_file() \
                else {}
            for row in list(self.tables[folder].values())[:1]:
                self.columns.extend(c for c in row if c not in self.columns)
        return self.tables[folder]

    def lookup(self, file: Path, top: Path) -> dict[str, str]:
        folder = file.parent
        while True:
            rows = self.table(folder)
            if rows:
                rel = file.relative_to(folder).as_posix()
                row = rows.get("file:" + rel) or rows.get("id:" + rel.rsplit(".", 1)[0])
                if row is not None:
                    return row
            if folder == top or folder.parent == folder:
                return {}
            folder = folder.parent


def _int_like(series: pd.Series) -> bool:
    values = series.dropna().astype(str).str.strip()
    values = values[values != ""]
    return len(values) > 0 and bool(values.str.fullmatch(r"-?\d{1,15}").all())


def _documents_frame(rows: list[dict[str, Any]], metadata_columns: list[str]) -> pd.DataFrame:
    columns = DOCUMENT_COLUMNS + EXTRA_COLUMNS
    columns += [c for c in metadata_columns if c not in columns]
    df = pd.DataFrame(rows, columns=columns)
    df["n_chars"] = df["n_chars"].astype("int64")
    df["year"] = pd.array([None if pd.isna(y) else int(y) for y in df["year"]], dtype="Int64")
    df["is_traditional"] = df["is_traditional"].astype(bool)
    df["converted"] = df["converted"].astype(bool)
    df["traditional_share"] = df["traditional_share"].astype(float)
    for c in columns[len(DOCUMENT_COLUMNS) + len(EXTRA_COLUMNS):]:
        if _int_like(df[c]):
            df[c] = pd.array([None if pd.isna(v) or str(v).strip() == "" else int(v)
                              for v in df[c]], dtype="Int64")
        else:
            df[c] = ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                     for v in df[c]]
    return df


def _document_row(raw: RawDocument, path: Path, doc_id: str, meta: dict[str, str],
                  to_simplified: bool) -> dict[str, Any]:
    def pick(name: str) -> str:
        value = meta.get(name, "")
        for alias in _METADATA_ALIASES.get(name, ()):
            value = value or meta.get(alias, "")
        return value or raw.metadata.get(name, "")

    title, title_source = meta.get("title", ""), "metadata"
    if not title and raw.metadata.get("title"):
        title, title_source = raw.metadata["title"], raw.format
    if not title:
        title, title_source = headline(raw.text), "headline"
    if not title:
        title_source = ""
    name_date = date_from_name(path.stem)
    date = pick("date") or name_date
    year = _year_of(meta.get("year")) or _year_of(date) or _year_of(name_date)
    text, share = raw.text, traditional_share(raw.text)
    original = None
    if to_simplified and share > 0:
        converted_text = to_simplified_text(text)
        if converted_text != text:
            original, text = text, converted_text
    row = {"doc_id": doc_id, "title": title, "date": date, "source": pick("source"),
           "author": pick("author"), "path": str(path), "encoding": raw.encoding,
           "n_chars": len(text), "text": text, "url": pick("url"), "year": year,
           "format": raw.format, "title_source": title_source,
           "is_traditional": share >= TRADITIONAL_SHARE, "traditional_share": share,
           "converted": original is not None, "original_text": original}
    for key, value in meta.items():
        if key not in _STANDARD_METADATA and key not in row:
            row[key] = value
    return row


class DocumentStream:
    """The documents of a folder or a list of files and folders, read one file at a time.

    Iterating yields one row a document (the columns of `Corpus.documents`, text included) and
    reads the next file only when asked, so a corpus larger than memory can be processed by
    whatever consumes the rows (`textmine.pipeline.run_pipeline`). The file names are listed
    when the stream is made (`len()` is how many candidate files there are); files that cannot
    be used are appended to `skipped` as the iteration reaches them, and `metadata_columns`
    grows as metadata.csv files are found. `frame(rows)` turns rows into the documents table
    exactly as `load_corpus` does. Each iteration starts again from the first file.
    """

    def __init__(self, path: str | Path | list[str | Path], config: Config | None = None, *,
                 to_simplified: bool | None = None, recursive: bool = True,
                 strict: bool = False):
        from textmine.config import Config

        self.config = config or Config()
        self.to_simplified = self.config.to_simplified if to_simplified is None \
            else to_simplified
        self.strict = strict
        targets = [Path(p) for p in path] if isinstance(path, (list, tuple)) else [Path(path)]
        self.targets = targets
        self._walk_skipped: list[dict[str, str]] = []
        self.files: list[tuple[Path, Path]] = []  # (file, folder its doc_id is relative to)
        for target in targets:
            if target.is_dir():
                found = _walk(target, self._walk_skipped) if recursive else sorted(
                    p for p in target.iterdir()
                    if p.is_file() and not p.name.startswith((".", "~$"))
                    and p.name.lower() not in NON_DOCUMENT_NAMES)
                self.files.extend((f, target) for f in found)
            elif target.exists() or target.is_symlink():
                self.files.append((target, target.parent))
            else:
                self._walk_skipped.append({"path": str(target), "reason": "no such file or folder"})
        if strict and self._walk_skipped:
            first = self._walk_skipped[0]
            raise InputError(f"{first['path']}: {first['reason']}")
        self.skipped: list[dict[str, str]] = list(self._walk_skipped)
        self.metadata_columns: list[str] = []
        self.root = targets[0] if len(targets) == 1 and targets[0].is_dir() else None

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.skipped = list(self._walk_skipped)
        base = _id_base(self.targets)
        metadata = _MetadataIndex(self.skipped)
        self.metadata_columns = metadata.columns
        taken: set[str] = set()
        for file, top in self.files:
            try:
                raw = read_document(file, max_file_bytes=self.config.max_file_bytes)
            except InputError as exc:
                if self.strict:
                    raise
                self.skipped.append({"path": str(file), "reason": _reason(exc, file)})
                continue
            meta = metadata.lookup(file, top)
            doc_id = meta.get("doc_id") or _relative_id(file, top, base)
            if doc_id in taken:  # two files give the same id: keep both, the later one by path
                doc_id = _relative_id(file, base or top, None, keep_suffix=True)
            while doc_id in taken:
                doc_id += "+"
            taken.add(doc_id)
            row = _document_row(raw, file, doc_id, meta, self.to_simplified)
            del raw
            yield row

    def frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """The documents table of these rows (columns and dtypes as `load_corpus` gives them;
        rows without their text give a table without text, to be dropped)."""
        return _documents_frame(rows, self.metadata_columns)

    def skipped_frame(self) -> pd.DataFrame:
        """The files skipped so far: path, reason."""
        return pd.DataFrame(self.skipped, columns=SKIPPED_COLUMNS)

    def warn_skipped(self, stacklevel: int = 3) -> None:
        """One `SkippedFilesWarning` listing the skipped files (none when nothing was)."""
        skipped = self.skipped
        if skipped:
            listed = "; ".join(f"{s['path']}: {s['reason']}" for s in skipped[:5])
            more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
            warnings.warn(f"{len(skipped)} file(s) skipped — {listed}{more}",
                          SkippedFilesWarning, stacklevel=stacklevel)


def load_corpus(path: str | Path | list[str | Path], config: Config | None = None, *,
                to_simplified: bool | None = None, recursive: bool = True,
                strict: bool = False) -> Corpus:
    """Read a folder (recursively) or a list of files and folders into a `Corpus`.

    Files that cannot be used are listed in `Corpus.skipped` (and one warning) unless
    `strict=True`, which raises the first InputError instead. `to_simplified` (default:
    `config.to_simplified`) converts traditional characters, keeping the original text in
    `original_text`. See the module docstring for formats, encodings and metadata. For a corpus
    too large to hold in memory, iterate a `DocumentStream` instead (one file at a time).
    """
    stream = DocumentStream(path, config, to_simplified=to_simplified, recursive=recursive,
                            strict=strict)
    rows = list(stream)
    stream.warn_skipped()
    return Corpus(stream.frame(rows), stream.skipped_frame(), root=stream.root)


def _reason(exc: InputError, file: Path) -> str:
    """The problem without the leading file name (the `path` column already says it)."""
    message = str(exc)
    prefix = f"{file}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _id_base(targets: list[Path]) -> Path | None:
    """For several targets: the folder their doc_ids are relative to (their common parent)."""
    if len(targets) < 2:
        return None
    folders = [str((t if t.is_dir() else t.parent).absolute()) for t in targets]
    try:
        return Path(os.path.commonpath(folders))
    except ValueError:  # different drives
        return None


def _relative_id(file: Path, top: Path, base: Path | None, keep_suffix: bool = False) -> str:
    """The file's path relative to its folder (or to the common base), without extension."""
    try:
        rel = file.absolute().relative_to(base) if base is not None else file.relative_to(top)
    except ValueError:
        rel = Path(file.name)
    return rel.as_posix() if keep_suffix else rel.with_suffix("").as_posix()
