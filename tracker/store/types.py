"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

__all__ = ["BigId", "EpochTime", "UTCDateTime"]

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


_EPOCH = datetime(1970, 1, 1)


class EpochTime(sa.types.TypeDecorator):
    """A UTC timestamp kept lean: integer microseconds since 1970-01-01 on SQLite (8 bytes
    instead of 26 characters of text, in the row and every index), a ``timestamp`` on
    PostgreSQL; returned tz-aware UTC on both. Used for the big tables' ``ts`` (positions,
    static reports). Integers passed in are taken as microseconds already.
    """

    impl = sa.BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        if dialect.name == "sqlite":
            if isinstance(value, int):
                return value
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            delta = value - _EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        if isinstance(value, int):
            value = _EPOCH + timedelta(microseconds=value)
        elif value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, int):
            return (_EPOCH + timedelta(microseconds=value)).replace(tzinfo=UTC)
        if isinstance(value, str):  # a value written as text before migration 0007
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC)
