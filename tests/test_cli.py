"""The `textmine` command: ingest and clean, bad files, and every subcommand's --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from textmine.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main([command, "--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: textmine {command}")
    assert len(out.splitlines()) > 3


def test_ingest_reads_good_files_and_lists_bad_ones(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.txt").write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 half a download")
    out = tmp_path / "tables"
    assert main(["ingest", str(corpus), "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "documents: 1" in captured.out
    assert "encodings: gbk 1" in captured.out
    assert "files skipped: 1" in captured.out
    assert f"{corpus / 'broken.docx'}: not a readable .docx" in captured.out
    assert "broken.docx" in captured.err  # also reported as soon as loading finishes
    for name in ("documents", "blocks", "sentences", "ledger", "skipped"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    documents = pd.read_parquet(out / "documents.parquet")
    assert documents["doc_id"].tolist() == ["report"]
    assert documents["raw_text"].iloc[0] == SAMPLE.read_text(encoding="utf-8")
    skipped = pd.read_csv(out / "skipped.csv")
    assert skipped["path"].tolist() == [str(corpus / "broken.docx")]


def test_ingest_fails_when_nothing_can_be_read(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    with pytest.raises(SystemExit) as excinfo:
        main(["ingest", str(tmp_path), "--out", str(tmp_path / "out"), "-q"])
    assert "no document could be read" in str(excinfo.value.code)
    err = capsys.readouterr().err
    assert f"{tmp_path / 'empty.txt'}: empty file" in err
    assert f"{tmp_path / 'image.txt'}: binary data" in err
    assert not (tmp_path / "out" / "documents.csv").exists()


def test_ingest_exit_status_from_the_shell(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("第一段。", encoding="utf-8")
    (tmp_path / "b.xyz").write_text("x", encoding="utf-8")
    command = [sys.executable, "-m", "textmine.cli", "ingest", str(tmp_path), "--out",
               str(tmp_path / "out"), "-q"]
    ok = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "unsupported format '.xyz'" in ok.stdout
    (tmp_path / "a.txt").unlink()
    failed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0
    assert "no document could be read" in failed.stderr


def test_ingest_to_simplified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "old.txt").write_text("中央委員會的人員太少，搜集不了很多材料。", encoding="utf-8")
    assert main(["ingest", str(tmp_path), "--out", str(tmp_path / "out"), "-q",
                 "--to-simplified"]) == 0
    assert "converted to simplified: 1" in capsys.readouterr().out
    documents = pd.read_parquet(tmp_path / "out" / "documents.parquet")
    assert documents["raw_text"].iloc[0] == "中央委员会的人员太少，搜集不了很多材料。"
    assert documents["original_text"].iloc[0] == "中央委員會的人員太少，搜集不了很多材料。"


def test_clean_prints_blocks_with_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean", str(SAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("[") and "] " in line for line in lines)
    assert any("夏侯凤超" in line for line in lines)


def test_clean_names_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"not a pdf at all")
    with pytest.raises(SystemExit) as excinfo:
        main(["clean", str(bad)])
    assert str(bad) in str(excinfo.value.code)
    assert "not a readable PDF" in str(excinfo.value.code)
