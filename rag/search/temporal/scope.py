"""The publication dates a question asks about: a :class:`DateScope` (a range of ISO days,
either end open, and an ordering), and the test of a document's date against it.

Read from a question by :mod:`rag.search.temporal`; applied before ranking by :mod:`rag.search.temporal.retrieval`.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

ORDERS = ("latest", "earliest")


@dataclass(frozen=True)
class DateScope:
    """The publication dates a question asks about, and the order it wants them in.

    ``start`` and ``end``: ISO days, inclusive; None leaves that end open (both None: an
    ordering alone). ``order``: "latest", "earliest" or None. ``label``: what the answer is
    headed with («articles d'octobre 2024»); ``empty``: what the bot says when no article of
    the corpus falls in the range.
    """

    start: str | None = None
    end: str | None = None
    order: str | None = None
    label: str = ""
    empty: str = ""

    @property
    def ranged(self) -> bool:
        return self.start is not None or self.end is not None

    def contains(self, iso: str | None) -> bool:
        """Whether a document dated ``iso`` («2024-10-31», «2024-10», «2024») falls in the
        range: a date known to the month or the year counts when that month or year overlaps
        it. An undated document is in no range (but in an ordering alone).

        >>> scope = DateScope("2024-10-01", "2024-10-31")
        >>> [scope.contains(d) for d in ("2024-10-31", "2024-10", "2024", "2024-11-01", None)]
        [True, True, True, False, False]
        """
        if not self.ranged:
            return True
        span = date_span(iso)
        if span is None:
            return False
        first, last = span
        return (self.end is None or first <= self.end) and (self.start is None or last >= self.start)

    def as_json(self) -> dict:
        return {"start": self.start, "end": self.end, "order": self.order, "label": self.label}


def date_span(iso: str | None) -> tuple[str, str] | None:
    """The first and last day of an ISO date at its precision, or None.

    >>> date_span("2024-02"), date_span("2023"), date_span("2025-03-27"), date_span("mars")
    (('2024-02-01', '2024-02-29'), ('2023-01-01', '2023-12-31'), ('2025-03-27', '2025-03-27'), None)
    """
    if not iso:
        return None
    parts = iso.strip().split("-")
    try:
        if len(parts) == 1:
            year = int(parts[0])
            return date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
        if len(parts) == 2:
            year, month = int(parts[0]), int(parts[1])
            return date(year, month, 1).isoformat(), date(year, month, monthrange(year, month)[1]).isoformat()
        day = date(int(parts[0]), int(parts[1]), int(parts[2][:2]))
        return day.isoformat(), day.isoformat()
    except ValueError:
        return None
