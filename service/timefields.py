"""Date-time fields as the OpenAPI document promises them: ISO 8601 strings only.

Pydantic would also take a bare number as Unix seconds ("to=0.5" meaning 1970), which the
schema does not allow and no user means.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, NaiveDatetime, WithJsonSchema


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("expected an ISO 8601 date-time, such as 2026-12-01T07:30:00+02:00")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
IsoAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
# A wall-clock time has no offset, and JSON Schema's "date-time" format requires one: the
# document gives the shape the code takes instead.
NAIVE_DATETIME_SCHEMA = {
    "type": "string",
    "pattern": r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "examples": ["2026-12-01T07:30:00"],
}
IsoNaiveDatetime = Annotated[
    NaiveDatetime, BeforeValidator(_iso_only), WithJsonSchema(NAIVE_DATETIME_SCHEMA)
]
