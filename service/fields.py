"""Request field types: what every text, time, flag and number in a request must be.

Written once here so that each endpoint refuses the same hostile input the same way, with a
422 problem naming the field, before anything reaches the service or the database:

* **Text** (``Text``, multi-line) refuses control characters other than newline, carriage
  return and tab, unpaired surrogates (which JSON can carry in ``\\ud800`` escapes and
  PostgreSQL cannot store) and the noncharacters U+FFFE and U+FFFF. A CRLF or a lone CR
  becomes LF, as browsers send text areas. ``Line`` (names, handles, URLs, zones) refuses
  every control character, newlines and tabs included.
* **Times** (``Timestamp``, ``LocalTime``) are ISO 8601 strings only (pydantic would also
  take a bare number as Unix seconds) and lie between 1970 and 2100. The year is checked
  before any offset is applied, so ``9999-12-31T23:59:59-12:00`` is refused instead of
  overflowing when converted to UTC.
* **Flags and counts** (``Flag``, ``Count``) are strict: ``"yes"``, ``1`` or ``"1"`` is not
  ``true``, and ``"5"`` or ``5.0`` is not ``5``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import regex
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, NaiveDatetime, StrictBool
from pydantic import StrictInt as _StrictInt
from pydantic.json_schema import WithJsonSchema

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
TIME_RANGE = "between 1970-01-01 and 2100-12-31"

# C0 controls but tab, LF and CR; DEL and the C1 controls; surrogates; U+FFFE and U+FFFF.
_FORBIDDEN_IN_TEXT = regex.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\p{Cs}\uFFFE\uFFFF]")
_FORBIDDEN_IN_LINE = regex.compile(r"[\x00-\x1F\x7F-\x9F\p{Cs}\uFFFE\uFFFF]")
# For the OpenAPI document (JSON Schema regexes have no \p classes; surrogates can't be named).
_TEXT_SCHEMA_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]*$"
_LINE_SCHEMA_PATTERN = r"^[^\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]*$"


def _describe(character: str) -> str:
    return f"U+{ord(character):04X}"


def clean_text(value: Any) -> Any:
    """Multi-line text: line breaks normalised to LF, control characters refused."""
    if not isinstance(value, str):
        return value  # the str type's own check says "Input should be a valid string"
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = _FORBIDDEN_IN_TEXT.search(value)
    if found is not None:
        raise ValueError(
            f"contains the control character {_describe(found.group())} at position "
            f"{found.start()}; only newlines and tabs are allowed"
        )
    return value


def clean_line(value: Any) -> Any:
    """One line: no control characters at all, line breaks and tabs included."""
    if not isinstance(value, str):
        return value
    found = _FORBIDDEN_IN_LINE.search(value)
    if found is not None:
        raise ValueError(
            f"contains the control character {_describe(found.group())} at position "
            f"{found.start()}; this field is a single line of text"
        )
    return value


Text = Annotated[
    str,
    BeforeValidator(clean_text),
    WithJsonSchema({"type": "string", "pattern": _TEXT_SCHEMA_PATTERN}),
]
Line = Annotated[
    str,
    BeforeValidator(clean_line),
    WithJsonSchema({"type": "string", "pattern": _LINE_SCHEMA_PATTERN}),
]


# Subtags of 1-8 letters or digits joined by hyphens (RFC 5646); langcodes would also take
# "en_US" and other near-misses that the networks refuse.
_LANGUAGE_SHAPE = regex.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _language_tag(value: str) -> str:
    """A BCP 47 language tag of the IANA registry, in its standard form ("EN-gb" -> "en-GB")."""
    import langcodes  # imported here: only requests that carry a language need it

    well_formed = _LANGUAGE_SHAPE.fullmatch(value) is not None
    if not well_formed or value == "und" or not langcodes.tag_is_valid(value):
        raise ValueError(
            f"{value!r} is not a BCP 47 language tag: use a language code such as 'en', "
            "'fi' or 'pt-BR'"
        )
    standard: str = langcodes.standardize_tag(value)
    return standard


# A post's or an account's language: a BCP 47 tag, stored in its standard form.
Language = Annotated[
    str,
    BeforeValidator(clean_line),
    AfterValidator(_language_tag),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 35,
            "pattern": r"^[A-Za-z0-9-]{1,35}$",
            "description": "BCP 47 language tag, e.g. en, fi, pt-BR.",
        }
    ),
]


def first_invalid_character(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` is not acceptable text (None when it is): for checks outside pydantic."""
    try:
        (clean_text if multiline else clean_line)(value)
    except ValueError as exc:
        return str(exc)
    return None


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("expected an ISO 8601 date-time, such as 2026-12-01T07:30:00+02:00")
    return value


def _within_range(value: datetime) -> datetime:
    # The wall-clock year first: converting 9999-12-31T23:59-12:00 to UTC would overflow.
    if not 1970 <= value.year <= 2100:
        raise ValueError(f"must lie {TIME_RANGE}")
    aware = value.tzinfo is not None and value.utcoffset() is not None
    if aware and not EARLIEST <= value.astimezone(UTC) <= LATEST:
        raise ValueError(f"must lie {TIME_RANGE} (UTC)")
    return value


_TIME_DOC = f"ISO 8601 date-time {TIME_RANGE}"

# Any ISO 8601 time; whether an offset is required is the caller's rule (a schedule says so
# in its own words).
Timestamp = Annotated[
    datetime,
    BeforeValidator(_iso_only),
    AfterValidator(_within_range),
    WithJsonSchema({"type": "string", "format": "date-time", "description": _TIME_DOC}),
]
AwareTimestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_only),
    AfterValidator(_within_range),
    WithJsonSchema({"type": "string", "format": "date-time", "description": _TIME_DOC}),
]
LocalTime = Annotated[
    NaiveDatetime,
    BeforeValidator(_iso_only),
    AfterValidator(_within_range),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
            "description": f"Wall-clock ISO 8601 date-time without offset, {TIME_RANGE}",
        }
    ),
]

Flag = StrictBool
Count = _StrictInt
