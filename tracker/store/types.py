"""Column types shared by every table."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

__all__ = [
    "SCALES",
    "BigId",
    "EpochTime",
    "ScaledFloat",
    "UTCDateTime",
    "scaled_column",
    "scaled_value",
]

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


def _us(value) -> int:
    """Microseconds since the epoch of a datetime (naive = UTC), pandas Timestamp or numpy
    datetime64; integers are taken as microseconds already."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[us]").astype(np.int64))
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class EpochTime(sa.types.TypeDecorator):
    """A UTC timestamp kept lean: integer microseconds since 1970-01-01 on SQLite (6-8 bytes
    instead of 26 characters of text, in the row and every index), a ``timestamp`` on
    PostgreSQL; returned tz-aware UTC on both. Used for the big tables' ``ts`` (positions,
    static reports) and the vessels' first/last seen. Integers (Python or numpy) passed in are
    taken as microseconds already.
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
        us = _us(value)
        if dialect.name == "sqlite":
            return us
        return _EPOCH + timedelta(microseconds=us)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, int):
            return (_EPOCH + timedelta(microseconds=value)).replace(tzinfo=UTC)
        if isinstance(value, str):  # a value written as text before migration 0007
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC)


# --- scaled numbers -----------------------------------------------------------------------

#: Scale of each column stored by :class:`ScaledFloat` on SQLite: degrees x 3,000,000 (an
#: integer for every value with at most 6 decimals, and for AIS' 1/10,000 minute), knots and
#: degrees of course x 10 (AIS' 0.1 units).
SCALES = {"lon": 3_000_000, "lat": 3_000_000, "sog_kn": 10, "cog_deg": 10}


#: Beyond this magnitude (2**53) a scaled value is no longer an exact integer in a double.
_MAX_SCALED = float(2**53)


def _too_big(value: float, scale: int) -> ValueError:
    return ValueError(f"{value!r} x {scale} is beyond what ScaledFloat keeps exactly (2**53)")


def scaled_value(value: float | None, scale: int) -> int | float | None:
    """What :class:`ScaledFloat` stores on SQLite for ``value``: ``round(value * scale)`` as an
    integer when dividing it by ``scale`` gives ``value`` back exactly, else ``value`` itself
    (a float). ``None`` and NaN are NULL; a value
    whose scaled magnitude reaches 2**53 raises ``ValueError``."""
    if value is None:
        return None
    value = float(value)
    if value != value:
        return None
    if not abs(value * scale) < _MAX_SCALED:
        raise _too_big(value, scale)
    scaled = round(value * scale)
    return scaled if scaled / scale == value else value


def scaled_column(values: np.ndarray | Sequence[float], scale: int) -> list:
    """:func:`scaled_value` of every element of a float array (NaN = NULL), as the list of
    Python ints, floats and ``None`` to bind with ``executemany``: how the fast writers store a
    :class:`ScaledFloat` column."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        scaled = np.rint(values * scale)
        big = ~(np.abs(scaled) < _MAX_SCALED) & ~np.isnan(values)
        if big.any():
            raise _too_big(float(values[big][0]), scale)
        exact = ~np.isnan(values) & (scaled / scale == values)
    out = values.astype(object)
    where = np.flatnonzero(exact)
    if len(where):
        out[where] = scaled[where].astype(np.int64).tolist()
    out[np.isnan(values)] = None
    return out.tolist()


class _Scaled(sa.sql.functions.FunctionElement):
    """The real value of a :class:`ScaledFloat` column in SQL (its arguments: the column and
    the scale): ``CASE typeof(..)`` on SQLite, the column itself elsewhere."""

    type = sa.Float()
    name = "tracker_scaled"
    inherit_cache = True


@compiles(_Scaled)
def _scaled_default(element, compiler, **kw) -> str:
    column, _scale = list(element.clauses)
    return compiler.process(column, **kw)


@compiles(_Scaled, "sqlite")
def _scaled_sqlite(element, compiler, **kw) -> str:
    column, scale = list(element.clauses)
    col = compiler.process(column, **kw)
    return (
        f"(CASE WHEN typeof({col}) = 'integer' THEN {col} / {compiler.process(scale, **kw)}"
        f" ELSE {col} END)"
    )


class _SqliteScaled(sa.types.UserDefinedType):
    """The SQLite column type ``SCALED_BLOB(<scale>)``: BLOB affinity (the word BLOB in the
    declared type), so SQLite keeps each value's storage class as written: an integer is the
    scaled value, a REAL the value itself, also where a writer bound plain floats."""

    cache_ok = True

    def __init__(self, scale: int) -> None:
        self.scale = scale

    def get_col_spec(self, **kw) -> str:
        return f"SCALED_BLOB({self.scale})"


class ScaledFloat(sa.types.TypeDecorator):
    """A float kept lean on SQLite: ``round(value * scale)`` as an integer (1-4 bytes instead
    of 8) when that gives the value back bit-exactly, else the float itself; a plain double
    on PostgreSQL. Python gets floats back either way (``-0.0`` comes back as ``0.0``).

    Operators in SQL (``<``, ``between``, ``==``, ``.desc()``) read the real value through
    ``CASE typeof(..)`` on SQLite, so filters such as a bounding box are exact. SQL functions
    given the bare column (``min(lon)``, ``order_by(lon)``, raw SQL) see the stored number: use
    :meth:`Comparator.value` (``table.c.lon.value()``) there. Writers that bypass SQLAlchemy
    (``executemany``) bind :func:`scaled_column` of the values; plain floats bound instead are
    read back right too (the column has BLOB affinity), at 8 bytes each.
    """

    impl = sa.Float
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = int(scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return _SqliteScaled(self.scale)
        return dialect.type_descriptor(sa.Float())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return scaled_value(value, self.scale)
        value = float(value)
        return None if value != value else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, int):
            return value / self.scale
        return float(value)

    def coerce_compared_value(self, op, value):
        return sa.Float()

    class Comparator(sa.types.TypeDecorator.Comparator):
        """Operators on the real value (see :class:`ScaledFloat`)."""

        def value(self):
            """The column's real value as an SQL expression (a double)."""
            scale = sa.literal_column(f"{float(self.type.scale)!r}")
            return _Scaled(self.expr, scale)

        def operate(self, op, *other, **kwargs):
            return op(self.value(), *other, **kwargs)

        def reverse_operate(self, op, other, **kwargs):
            return op(other, self.value(), **kwargs)

    comparator_factory = Comparator
