"""Reading the dates feeds carry, into aware UTC datetimes.

Understood: RFC 822 and its broken variants (missing weekday or seconds,
two-digit years, full month names, a comma after the month, ``GMT-01:01``,
time zone names and US zone letters), ISO 8601 / W3C-DTF (with or without
``T``, fractions, reduced precision), asctime, epoch numbers (seconds or
milliseconds), and Chinese forms (``2023年11月08日 09:55``, ``09时55分``).

Ambiguity is settled by the feed's language: ``CST`` in a Chinese feed is
China Standard Time (+08:00), elsewhere US Central (-06:00); a date with no
zone at all is taken as +08:00 in a Chinese feed and UTC otherwise. A date
that cannot be read, or that does not exist (month 13, 25 o'clock), gives
None rather than a guess.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_date"]

_UTC = timezone.utc
_CHINA = timezone(timedelta(hours=8))

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "janv"),
            ("feb", "february", "febr", "fév", "fev"),
            ("mar", "march", "mars"),
            ("apr", "april", "avr"),
            ("may", "mai"),
            ("jun", "june", "juin"),
            ("jul", "july", "juil"),
            ("aug", "august", "aoû", "aou"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december", "déc"),
        ],
        start=1,
    )
    for name in names
}

# Hours east of UTC.
_ZONES = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "etc/gmt": 0, "etc/utc": 0,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    "at": -4, "et": -5, "ct": -6, "mt": -7, "pt": -8,
    "akst": -9, "akdt": -8, "hst": -10,
    "bst": 1, "ist": 5.5, "cet": 1, "cest": 2, "met": 1, "mest": 2, "eet": 2, "eest": 3,
    "wet": 0, "west": 1, "msk": 3, "jst": 9, "kst": 9, "hkt": 8, "sgt": 8, "awst": 8,
    "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}  # fmt: skip
# Military single letters (RFC 822 §5), except "z" above and the ambiguous "j".
for _hours, _letter in enumerate("abcdefghiklm", start=1):
    _ZONES[_letter] = _hours
for _hours, _letter in enumerate("nopqrstuvwxy", start=1):
    _ZONES[_letter] = -_hours

_RFC822 = re.compile(
    r"""(?:[a-z]{2,}\.?,?\s*)?                 # weekday
    (?P<day>\d{1,2})(?:st|nd|rd|th)?[\s\-/]+
    (?P<month>[a-zéû]{3,9})\.?,?[\s\-/]+
    (?P<year>\d{2,4})
    (?:[\sT,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?:\.\d+)?
       (?:\s*(?P<ampm>[ap]m))?)?
    \s*(?P<zone>[a-z][a-z/]*?)?
    \s*(?P<offset>[+\-]\d{1,2}:?\d{2})?
    \s*(?:\([^)]*\))?\s*""",
    re.IGNORECASE | re.VERBOSE,
)
# "Thu Aug 30 2012 17:26:16 +0200", asctime "Sun Jan  4 16:29:06 2004",
# "Sun Jul 15 01:16:00 +0000 2012"
_MONTH_FIRST = re.compile(
    r"""(?:[a-z]{2,}\.?,?\s*)?
    (?P<month>[a-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+
    (?:(?P<year>\d{4})\s+)?
    (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?
    \s*(?P<zone>[a-z]+)?\s*(?P<offset>[+\-]\d{2}:?\d{2})?
    (?:\s+(?P<year2>\d{4}))?\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_ISO = re.compile(
    r"""(?P<year>\d{4})
    (?:-(?P<month>\d{1,3})(?:-(?P<day>\d{1,2}))?|(?P<bmonth>\d{2})(?P<bday>\d{2}))?
    (?:(?:T|\s+)(?P<hour>\d{1,2}):?(?P<minute>\d{2})(?::?(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
       \s*(?P<zone>Z|UTC|GMT|[+\-]\d{2}(?::?\d{2})?)?
    )?""",
    re.IGNORECASE | re.VERBOSE,
)
_CHINESE = re.compile(
    r"""(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日?
    (?:\s*(?:(?P<period>上午|下午|晚上|凌晨|中午))?\s*(?P<hour>\d{1,2})\s*[:：时時点點]\s*(?P<minute>\d{1,2})\s*分?
       (?:\s*[:：]?\s*(?P<second>\d{1,2})\s*秒?)?)?
    \s*(?P<zone>[+\-]\d{2}:?\d{2}|CST|UTC|GMT|北京时间|北京時間)?\s*""",
    re.VERBOSE,
)
_EPOCH = re.compile(r"\d{9,13}(?:\.\d+)?")
_SLASHED = re.compile(
    r"""(?:[a-z]{2,}\.?,?\s*)?(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})
    (?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?
    \s*(?P<zone>[a-z]+)?\s*(?P<offset>[+\-]\d{2}:?\d{2})?\s*""",
    re.IGNORECASE | re.VERBOSE,
)


def _offset(text: str) -> timedelta | None:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if not digits.isdigit():
        return None
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 14 or minutes > 59:
        return None
    return sign * timedelta(hours=hours, minutes=minutes)


def _zone(name: str | None, offset: str | None, chinese: bool) -> timezone | None:
    """The zone a date names; None when the name is unknown (so the date is not read)."""
    delta = timedelta(0)
    named = False
    if name:
        key = name.lower()
        if key == "cst" and chinese:
            hours: float = 8
        elif key in ("北京时间", "北京時間"):
            hours = 8
        elif key in _ZONES:
            hours = _ZONES[key]
        else:
            return None
        delta = timedelta(hours=hours)
        named = True
    if offset:
        extra = _offset(offset)
        if extra is None:
            return None
        # "GMT-01:01" means the offset itself; a zone name plus offset is read as the offset.
        delta = extra if not named or delta == timedelta(0) else delta
        named = True
    if not named:
        return _CHINA if chinese else _UTC
    return timezone(delta)


def _build(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    zone: timezone | None = _UTC,
    microsecond: int = 0,
) -> datetime | None:
    if zone is None:
        return None
    try:
        if second == 60:  # a leap second: the next one
            return datetime(year, month, day, hour, minute, 59, microsecond, zone).astimezone(
                _UTC
            ) + timedelta(seconds=1)
        return datetime(year, month, day, hour, minute, second, microsecond, zone).astimezone(_UTC)
    except (ValueError, OverflowError):
        return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


def _int(value: str | None) -> int:
    return int(value) if value else 0


def _rfc822(text: str, chinese: bool) -> datetime | None:
    match = _RFC822.fullmatch(text)
    if match is None:
        return None
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        return None
    hour = _int(match["hour"])
    ampm = match["ampm"]
    if ampm:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    return _build(
        _year(match["year"]),
        month,
        int(match["day"]),
        hour,
        _int(match["minute"]),
        _int(match["second"]),
        _zone(match["zone"], match["offset"], chinese),
    )


def _month_first(text: str, chinese: bool) -> datetime | None:
    match = _MONTH_FIRST.fullmatch(text)
    if match is None:
        return None
    month = _MONTHS.get(match["month"].lower())
    year = match["year"] or match["year2"]
    if month is None or year is None:
        return None
    return _build(
        int(year),
        month,
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        _int(match["second"]),
        _zone(match["zone"], match["offset"], chinese),
    )


def _iso(text: str, chinese: bool) -> datetime | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    month = int(match["month"] or match["bmonth"] or 1)
    day = int(match["day"] or match["bday"] or 1)
    zone_text = match["zone"]
    zone: timezone | None
    if zone_text is None:
        # A bare date is a calendar day, read as UTC; a bare date-time follows the feed.
        zone = (_CHINA if chinese else _UTC) if match["hour"] else _UTC
    elif zone_text.upper() in ("Z", "UTC", "GMT"):
        zone = _UTC
    else:
        delta = _offset(zone_text)
        zone = timezone(delta) if delta is not None else None
    fraction = match["fraction"]
    microsecond = int((fraction + "000000")[:6]) if fraction else 0
    return _build(
        int(match["year"]),
        month,
        day,
        _int(match["hour"]),
        _int(match["minute"]),
        _int(match["second"]),
        zone,
        microsecond,
    )


def _chinese(text: str) -> datetime | None:
    match = _CHINESE.fullmatch(text)
    if match is None:
        return None
    hour = _int(match["hour"])
    if match["period"] in ("下午", "晚上") and hour < 12:
        hour += 12
    zone_text = match["zone"]
    if zone_text is None or zone_text in ("CST", "北京时间", "北京時間"):
        zone: timezone | None = _CHINA
    elif zone_text in ("UTC", "GMT"):
        zone = _UTC
    else:
        delta = _offset(zone_text)
        zone = timezone(delta) if delta is not None else None
    return _build(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        hour,
        _int(match["minute"]),
        _int(match["second"]),
        zone,
    )


def _slashed(text: str, chinese: bool) -> datetime | None:
    match = _SLASHED.fullmatch(text)
    if match is None:
        return None
    return _build(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        _int(match["hour"]),
        _int(match["minute"]),
        _int(match["second"]),
        _zone(match["zone"], match["offset"], chinese),
    )


def _epoch(text: str) -> datetime | None:
    value = float(text)
    if len(text.split(".")[0]) >= 12:
        value /= 1000
    try:
        return datetime.fromtimestamp(value, _UTC)
    except (OverflowError, OSError, ValueError):
        return None


_FAST_RFC822 = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4}|GMT|UTC|UT|Z)"
)
_MONTH_NUMBERS = {name: number for name, number in _MONTHS.items() if len(name) == 3}
_OFFSETS: dict[str, timezone] = {"GMT": _UTC, "UTC": _UTC, "UT": _UTC, "Z": _UTC}


def _fast(text: str, chinese: bool) -> datetime | None:
    """The two forms nearly every feed uses, read without the general machinery."""
    if text[4:5] == "-" and text[:4].isdigit():
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            if len(text) <= 10:
                return moment.replace(tzinfo=_UTC)
            moment = moment.replace(tzinfo=_CHINA if chinese else _UTC)
        try:
            return moment.astimezone(_UTC)
        except (OverflowError, ValueError):
            return None
    match = _FAST_RFC822.fullmatch(text)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, offset = match.groups()
    month = _MONTH_NUMBERS.get(month_name.lower())
    zone = _OFFSETS.get(offset)
    if zone is None:
        delta = _offset(offset)
        if month is None or delta is None:
            return None
        zone = _OFFSETS.setdefault(offset, timezone(delta))
    if month is None:
        return None
    return _build(int(year), month, int(day), int(hour), int(minute), int(second), zone)


def parse_date(value: str | None, *, chinese: bool = False) -> datetime | None:
    """The moment a feed's date string names, as aware UTC; None if it cannot be read.

    ``chinese`` says the feed is in Chinese, which settles ``CST`` and dates
    without a zone as China Standard Time.
    """
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    quick = _fast(text, chinese)
    if quick is not None:
        return quick
    first = text[0]
    if first.isdigit():
        if "年" in text:
            return _chinese(text)
        if _EPOCH.fullmatch(text):
            return _epoch(text)
        if len(text) >= 4 and text[:4].isdigit():
            if text[4:5] == "/":
                return _slashed(text, chinese)
            result = _iso(text, chinese)
            if result is not None:
                return result
        return _rfc822(text, chinese)
    return _rfc822(text, chinese) or _month_first(text, chinese) or _slashed(text, chinese)
