"""The one span detector: quantities, dates and formulations that must stay whole.

The tokenizer protects these spans as single tokens, `textmine.quantities` parses the quantity
spans and `textmine.formulations` classifies the formulation spans, so all three always agree on
where a span starts and ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: POS tags the tokenizer gives protected spans (jieba's tag set has none for them).
SPAN_POS = {"quantity": "mq", "date": "t", "formulation": "nz"}


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character span [start, end) of `text` and what it is."""

    start: int
    end: int
    kind: str  # "quantity", "date" or "formulation"
    text: str

    @property
    def pos(self) -> str:
        return SPAN_POS[self.kind]


_NUMBER = r"[0-9０-９]+(?:[.,][0-9]+)*"
_QUANTITY = re.compile(_NUMBER + r"(?:余|多)?(?:万|亿)?(?:多|余)?(?:[人名元岁个件处项%斤])?")


def detect_spans(text: str) -> list[Span]:
    """Non-overlapping spans in text order (placeholder grammar: Arabic numbers and a unit)."""
    return [Span(m.start(), m.end(), "quantity", m.group()) for m in _QUANTITY.finditer(text)]
