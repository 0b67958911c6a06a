"""French publication dates to ISO 8601, keeping the precision the source gives.

>>> parse_french_date("jeudi 27 mars 2025")
'2025-03-27'
>>> parse_french_date("2024-10")  # a month is a month, not the 1st of it
'2024-10'
"""

from __future__ import annotations

import re
from functools import lru_cache

_ISO_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_ISO_YEAR = re.compile(r"^\s*(\d{4})\s*$")


@lru_cache(maxsize=1)
def _parser():
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["fr"],
        settings={"PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY", "REQUIRE_PARTS": ["year"]},
    )


def parse_french_date(text: str) -> str | None:
    """Return ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``, or None if ``text`` is not a date."""
    text = text.strip()
    if not text or len(text) > 60:
        return None
    # dateparser reads "2024-10" as October 2024 but may report it at day precision.
    if match := _ISO_MONTH.match(text):
        year, month = match.groups()
        return f"{year}-{month}" if 1 <= int(month) <= 12 else None
    if match := _ISO_YEAR.match(text):
        return match.group(1)
    data = _parser().get_date_data(text)
    if data.date_obj is None:
        return None
    formats = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    return data.date_obj.strftime(formats.get(data.period, "%Y-%m-%d"))


MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def french_date(iso: str) -> str:
    """An ISO date, at the precision it has, as French words.

    >>> french_date("2025-03-27"), french_date("2024-10"), french_date("2024-10-01"), french_date("2023")
    ('27 mars 2025', 'octobre 2024', '1er octobre 2024', '2023')
    """
    parts = iso.split("-")
    if len(parts) >= 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        month = f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 3 and parts[2].isdigit():
            day = int(parts[2])
            return f"{'1er' if day == 1 else day} {month}"
        return month
    return iso
