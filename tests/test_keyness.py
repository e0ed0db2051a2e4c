"""Keyness (quanteda's textstat_keyness): statistics checked by hand and on the national reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from themes_data import NATIONAL, national

from textmine.dfm import build_dfm
from textmine.keyness import KEYNESS_COLUMNS, keyness, keyness_table


@pytest.fixture(scope="module")
def reports():
    clean, tokens = national()
    return build_dfm(tokens, documents=clean.documents)


def test_statistics_match_scipy_on_a_2x2_table():
    # quanteda's own test table: d1 = "b×7 a×3", d2 = "a×7 b×2"; target d1
    table = keyness_table(np.array([3, 7]), np.array([7, 2]), terms=["a", "b"],
                          correction="none")
    observed = np.array([[7, 2], [3, 7]])  # term b: target 7, reference 2
    chi2, _, _, _ = stats.chi2_contingency(observed, correction=False)
    g2, _, _, _ = stats.chi2_contingency(observed, correction=False, lambda_="log-likelihood")
    row_b = table.set_index("term").loc["b"]
    assert row_b["chi2"] == pytest.approx(chi2)
    assert row_b["g2"] == pytest.approx(g2)
    assert table.set_index("term").loc["a", "chi2"] == pytest.approx(-chi2)  # signed
    yates = keyness_table(np.array([3, 7]), np.array([7, 2]), terms=["a", "b"])
    chi2_yates, _, _, _ = stats.chi2_contingency(observed, correction=True)
    assert yates.set_index("term").loc["b", "chi2"] == pytest.approx(chi2_yates)
    # Williams' correction only shrinks G²
    assert 0 < yates.set_index("term").loc["b", "g2"] < g2
    # log ratio: log2((7/10) / (2/9)); a zero count counts as 0.5
    assert row_b["log_ratio"] == pytest.approx(np.log2((7 / 10) / (2 / 9)))
    absent = keyness_table(np.array([0, 10]), np.array([4, 6]), terms=["x", "y"])
    assert absent.loc[0, "log_ratio"] == pytest.approx(np.log2((0.5 / 10) / (4 / 10)))
    assert row_b["p"] == pytest.approx(stats.chi2.sf(g2, 1))


def test_columns_signs_and_counts(reports):
    table = keyness(reports, 2021, by="year")
    assert list(table.columns) == KEYNESS_COLUMNS
    assert table["g2"].is_monotonic_decreasing
    more_in_target = (table["n_target"] / table["n_target"].sum()
                      > table["n_reference"] / table["n_reference"].sum())
    assert ((table["g2"] >= 0) == more_in_target).all()
    seen_both = (table["n_target"] > 0) & (table["n_reference"] > 0)
    assert ((table["log_ratio"] > 0) == more_in_target)[seen_both].all()
    total = reports.term_counts()
    both = table.set_index("term")
    assert (both["n_target"] + both["n_reference"] == total[both.index]).all()


@pytest.mark.parametrize("year, distinctive", [
    (1955, {"五年计划", "资本主义", "工业化", "公私合营", "过渡时期", "手工业"}),
    (2021, {"疫情", "市场主体", "脱贫", "防控"}),
    (2022, {"疫情", "退税", "留抵", "市场主体"}),
    (1978, {"四人帮", "毛主席", "无产阶级"}),
    (2016, {"供给侧", "去产能", "动能", "结构性", "创业", "产能"}),
])
def test_one_year_against_the_others_puts_its_vocabulary_on_top(reports, year, distinctive):
    # the vocabulary was checked in the texts: e.g. 疫情 16× in 2021, 17× in 2022, ≤ 7× in any
    # other year; 五年计划 73× in 1955; 四人帮 only in the late 1970s
    top = set(keyness(reports, year, by="year").head(25)["term"])
    assert len(top & distinctive) >= 2, (year, sorted(top))


def test_reference_chosen_by_the_user(reports):
    # against 2021 alone, the epidemic is no longer distinctive of 2022
    against_all = keyness(reports, 2022, by="year").set_index("term")
    against_2021 = keyness(reports, 2022, by="year", reference=2021).set_index("term")
    assert against_all.loc["疫情", "g2"] > 10
    assert abs(against_2021.loc["疫情", "g2"]) < 3.84
    assert against_2021["n_reference"].sum() < against_all["n_reference"].sum()


def test_bad_groups_are_named(reports):
    with pytest.raises(ValueError, match="1961"):
        keyness(reports, 1961, by="year")
    with pytest.raises(ValueError, match="share"):
        keyness(reports, 2021, by="year", reference=[2021, 2022])
    with pytest.raises(KeyError, match="province"):
        keyness(reports, "山东", by="province")


def test_command_line_keyness(capsys):
    from io import StringIO

    from textmine.cli import main

    files = [str(NATIONAL / f"{y}.txt") for y in (2016, 2021, 2022)]
    assert main(["keyness", *files, "--by", "year", "--target", "2021", "2022", "--top", "15",
                 "-q"]) == 0
    table = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(table.columns) == KEYNESS_COLUMNS
    assert len(table) == 15 and "疫情" in set(table["term"])
    with pytest.raises(SystemExit, match="1999"):
        main(["keyness", *files, "--target", "1999", "-q"])
