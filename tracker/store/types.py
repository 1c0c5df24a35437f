"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

__all__ = ["BigId", "UTCDateTime"]

#: Auto-increment primary key: BIGINT on PostgreSQL, INTEGER (rowid) on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and returned tz-aware UTC.

    Naive datetimes passed in are taken as UTC; aware ones are converted to UTC.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
