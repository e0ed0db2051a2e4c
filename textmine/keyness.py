"""Keyness as in quanteda's `textstat_keyness`: which terms distinguish a target from a reference.

For each feature a 2×2 table is formed: its count in the target (a) and in the reference (b),
and the counts of all other features in each (c = T − a, d = R − b). The statistics:

* `g2`: the likelihood-ratio statistic G² = 2 Σ O ln(O/E). With `correction="default"` (as in
  quanteda) or "williams" it is divided by Williams' q = 1 + (N/T + N/R − 1)(N/f + N/(N−f) − 1)
  / (6N), where f = a + b.
* `chi2`: Pearson's χ². With `correction="default"` or "yates" Yates' continuity correction is
  applied as in R's `chisq.test(correct=TRUE)` (|O − E| reduced by min(0.5, |O − E|)), which is
  what quanteda's default gives for a 2×2 table.
* `log_ratio`: Hardie's Log Ratio effect size, log2((a/T) ÷ (b/R)): the binary log of the ratio
  of relative frequencies; a zero count is replaced by 0.5 so that a term absent from one side
  gets a finite value (its sign then reflects the smoothing, not the data, when the two sides
  differ much in size). 1 means twice as frequent (per token) in the target.
* `p`: the upper tail of the χ² distribution (1 degree of freedom) of the `measure` statistic.

All three statistics are signed like quanteda's: negative when the term is relatively more
frequent in the reference. Rows are sorted by the signed `measure`, largest first, then by term.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from textmine.dfm import DocumentFeatureMatrix, group_labels

KEYNESS_COLUMNS = ["term", "g2", "chi2", "log_ratio", "n_target", "n_reference", "p"]
CORRECTIONS = ("default", "williams", "yates", "none")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int, float, np.integer)):
        return [value]
    return list(value)


def _select(units: pd.DataFrame, by: str, values: list[Any]) -> np.ndarray:
    if by not in units.columns:
        raise KeyError(f"no column {by!r} to select groups by; the units have "
                       f"{list(units.columns)}")
    column = group_labels(units[by])
    wanted = {str(v) for v in values}
    unknown = sorted(wanted - set(column))
    if unknown:
        raise ValueError(f"{by} has no value(s) {unknown}; it has {sorted(set(column))[:20]}")
    return column.isin(wanted).to_numpy()


def keyness_table(n_target: np.ndarray, n_reference: np.ndarray, *, terms: Sequence[str],
                  correction: str = "default", measure: str = "g2") -> pd.DataFrame:
    """Keyness statistics from per-term counts in the target and the reference (unsorted)."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {correction!r}")
    if measure not in ("g2", "chi2"):
        raise ValueError(f"measure must be 'g2' or 'chi2', not {measure!r}")
    a = np.asarray(n_target, dtype=float)
    b = np.asarray(n_reference, dtype=float)
    total_t, total_r = a.sum(), b.sum()
    if total_t == 0 or total_r == 0:
        raise ValueError("keyness: the target or the reference has no token")
    c, d = total_t - a, total_r - b
    n = total_t + total_r
    f = a + b
    observed = np.stack([a, b, c, d])
    expected = np.stack([f * total_t / n, f * total_r / n,
                         (n - f) * total_t / n, (n - f) * total_r / n])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms_g2 = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    g2 = 2.0 * terms_g2.sum(axis=0)
    if correction in ("default", "williams"):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = 1.0 + (n / total_t + n / total_r - 1.0) * (n / f + n / (n - f) - 1.0) / (6.0 * n)
        g2 = np.where(np.isfinite(q) & (q > 0), g2 / q, g2)
    deviation = np.abs(observed - expected)
    if correction in ("default", "yates"):
        deviation = deviation - np.minimum(0.5, deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(expected > 0, deviation ** 2 / expected, 0.0).sum(axis=0)
    g2 = np.maximum(g2, 0.0)
    sign = np.where(a / total_t >= b / total_r, 1.0, -1.0)
    log_ratio = np.log2((np.where(a > 0, a, 0.5) / total_t) / (np.where(b > 0, b, 0.5) / total_r))
    stat = g2 if measure == "g2" else chi2
    return pd.DataFrame({
        "term": np.asarray(terms, dtype=object),
        "g2": sign * g2,
        "chi2": sign * chi2,
        "log_ratio": log_ratio,
        "n_target": a.astype(np.int64),
        "n_reference": b.astype(np.int64),
        "p": stats.chi2.sf(stat, df=1),
    }, columns=KEYNESS_COLUMNS)


def keyness(dfm: DocumentFeatureMatrix, target: Any, *, by: str | None = None,
            reference: Any = None, measure: str = "g2", correction: str = "default",
            min_count: int = 1) -> pd.DataFrame:
    """Score every feature for how much it distinguishes the target units from the reference.

    `target` and `reference` are values of the units column `by` (e.g. by="year",
    target=2021, reference=[2019, 2018]) or, with by=None, doc_ids — or a boolean mask over the
    units. The reference defaults to every unit not in the target. Terms whose total count in
    target + reference is below `min_count` are left out. Columns: term, g2, chi2, log_ratio,
    n_target, n_reference, p (see the module docstring).
    """
    column = by or "doc_id"
    if isinstance(target, (np.ndarray, pd.Series)) and np.asarray(target).dtype == bool:
        target_mask = np.asarray(target, dtype=bool)
        if len(target_mask) != len(dfm):
            raise ValueError(f"target mask has {len(target_mask)} entries for {len(dfm)} units")
    else:
        target_mask = _select(dfm.units, column, _as_list(target))
    if reference is None:
        reference_mask = ~target_mask
    elif isinstance(reference, (np.ndarray, pd.Series)) and np.asarray(reference).dtype == bool:
        reference_mask = np.asarray(reference, dtype=bool)
    else:
        reference_mask = _select(dfm.units, column, _as_list(reference))
    if (target_mask & reference_mask).any():
        raise ValueError("the target and the reference share units; choose disjoint groups")
    if not target_mask.any():
        raise ValueError("the target selects no unit")
    if not reference_mask.any():
        raise ValueError("the reference selects no unit")
    n_target = np.asarray(dfm.counts[target_mask].sum(axis=0)).ravel()
    n_reference = np.asarray(dfm.counts[reference_mask].sum(axis=0)).ravel()
    present = (n_target + n_reference) >= max(min_count, 1)
    table = keyness_table(n_target, n_reference, terms=dfm.features, correction=correction,
                          measure=measure)
    table = table[present]
    return (table.sort_values([measure, "term"], ascending=[False, True], kind="mergesort")
            .reset_index(drop=True))
