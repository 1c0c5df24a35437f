"""Open a store from a URL and bring its schema up to date with Alembic.

Opening is safe to do from any number of processes at once, and does not write to a store
whose schema is already current (so read commands work on a read-only store):

- the schema is first *inspected*: current (nothing to do), empty (create it), outdated
  (upgrade it), another application's database (refused unless ``init``: ``tracker db init``),
  or revisions this tracker does not know (refused);
- creating or upgrading runs under a lock: ``pg_advisory_xact_lock`` on PostgreSQL, a
  ``BEGIN EXCLUSIVE`` transaction on SQLite; the state is inspected again under the lock, so the
  second of two processes opening a fresh store finds it made;
- PostgreSQL connections get a connect timeout (default 10 s) and a statement timeout (default
  30 min), set by ``?connect_timeout=S&statement_timeout=S`` in the URL or
  ``$TRACKER_PG_CONNECT_TIMEOUT`` / ``$TRACKER_PG_STATEMENT_TIMEOUT`` (``0``: no statement
  timeout); SQLite connections wait up to 30 s for a lock and use WAL;
- a SQLite file that cannot be written (read-only mount, no write permission on the file or its
  folder) is opened read-only;
- database errors with a plain cause (disk full, read-only store, permission denied, no
  connection, statement timeout) become a one-line :class:`StoreError` naming the file or the
  URL, with the password masked (:func:`safe_url`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tracker.core.config import database_url
from tracker.core.errors import StoreError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_STATEMENT_TIMEOUT",
    "SchemaState",
    "Store",
    "advisory_lock_id",
    "mask_secrets",
    "open_store",
    "safe_url",
    "schema_state",
    "store_error",
    "upgrade_schema",
]

_MIGRATIONS = Path(__file__).with_name("migrations")

#: Seconds to wait for a PostgreSQL server to answer a new connection.
DEFAULT_CONNECT_TIMEOUT = 10
#: Seconds one PostgreSQL statement may run (a guard against a server that never answers).
DEFAULT_STATEMENT_TIMEOUT = 1800
ENV_CONNECT_TIMEOUT = "TRACKER_PG_CONNECT_TIMEOUT"
ENV_STATEMENT_TIMEOUT = "TRACKER_PG_STATEMENT_TIMEOUT"
#: Milliseconds a SQLite connection waits for another process's lock.
SQLITE_BUSY_MS = 30000
#: Tables that extensions put in an otherwise empty database (PostGIS).
_EXTENSION_TABLES = {"spatial_ref_sys"}


@dataclass(frozen=True)
class Store:
    """An open tracker store: the SQLAlchemy engine and its URL."""

    engine: Engine
    url: str
    read_only: bool = False

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with its password masked: the form to print."""
        return safe_url(self.url)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# --- secrets ------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)@")


def safe_url(url: str | sa.engine.URL) -> str:
    """``url`` with its password replaced by ``***`` (also when it does not parse)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable text: mask by pattern
        return _URL_PASSWORD.sub(r"\g<head>***@", str(url))


def mask_secrets(text: str, *urls: str | None) -> str:
    """``text`` with the password of every URL in it, and of ``urls``, replaced by ``***``."""
    for url in urls:
        if not url:
            continue
        try:
            password = sa.engine.make_url(url).password
        except Exception:  # noqa: BLE001
            match = _URL_PASSWORD.search(url)
            password = match.group("pw") if match else None
        if password:
            text = text.replace(str(password), "***")
            text = text.replace(quote(str(password), safe=""), "***")
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


# --- errors -------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _driver_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return _one_line(text.split("\n\n")[0]) or type(orig).__name__


def _where(url: sa.engine.URL) -> str:
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return safe_url(url)


def store_error(exc: BaseException, url: str | sa.engine.URL) -> StoreError | None:
    """A one-line :class:`StoreError` for a database error with a plain cause, else None.

    Plain causes: disk full, read-only store, permission denied, file cannot be opened, no
    connection to the server, statement timeout. Retryable errors (locks, deadlocks) are None.
    """
    url = sa.engine.make_url(url) if isinstance(url, str) else url
    where = _where(url)
    msg = _driver_message(exc)
    low = msg.lower()
    code = getattr(getattr(exc, "orig", None), "pgcode", None)
    if "database or disk is full" in low or code in ("53100", "53200") or "no space left" in low:
        return StoreError(
            f"{where}: disk full ({msg}); the step that failed stored nothing and the store is "
            "consistent: free space on that disk and run the command again"
        )
    if "readonly database" in low or "read-only" in low or code == "25006":
        return StoreError(
            f"{where}: the store is read-only ({msg}); give write access to the file and its "
            "folder, or copy it somewhere writable, to run a command that changes it"
        )
    if "permission denied" in low or code == "42501":
        return StoreError(
            f"{where}: permission denied ({msg}); ask the store's owner for write access"
        )
    if "unable to open database file" in low:
        return StoreError(
            f"{where}: cannot open the store file ({msg}); check that its folder exists and "
            "that you may read and write it"
        )
    if code == "57014" or "statement timeout" in low:
        return StoreError(
            f"{where}: a statement ran longer than the statement timeout ({msg}); raise it with "
            f"?statement_timeout=SECONDS in the URL or ${ENV_STATEMENT_TIMEOUT} (0: none)"
        )
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return StoreError(f"{where}: the connection to the server was lost ({msg}); try again")
    return None


def _connect_error(exc: BaseException, url: sa.engine.URL, timeout: int | None) -> StoreError:
    msg = _driver_message(exc)
    hint = ""
    if "timeout" in msg.lower() and timeout:
        hint = (
            f" (no answer within the {timeout} s connect timeout: is it a PostgreSQL server? "
            f"?connect_timeout=SECONDS in the URL or ${ENV_CONNECT_TIMEOUT} to wait longer)"
        )
    return StoreError(f"cannot connect to {safe_url(url)}: {msg}{hint}")


# --- engines ------------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_wal(engine: Engine) -> None:
    """Put a tracker SQLite store in WAL mode (persistent; done once, never on other files)."""
    try:
        with engine.connect() as conn:
            if conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except (sa.exc.SQLAlchemyError, StoreError):  # read-only or busy: keep its journal mode
        pass


def _sqlite_read_only(path: str) -> bool:
    """True when the SQLite file exists but we cannot write it or make its WAL files."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return False
    p = Path(path)
    if not p.exists():
        return False
    if not os.access(p, os.W_OK):
        return True
    wal = [Path(f"{p}-wal"), Path(f"{p}-shm")]
    if all(w.exists() for w in wal):
        return not all(os.access(w, os.W_OK) for w in wal)
    return not os.access(p.parent, os.W_OK)


def _seconds(value, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"{name} must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise StoreError(f"{name} must be 0 or more seconds, got {value!r}")
    return round(seconds)


def _postgres_args(url: sa.engine.URL) -> tuple[sa.engine.URL, dict, int]:
    """The URL without tracker's own query options, the driver's connect arguments and the
    connect timeout in seconds."""
    query = dict(url.query)
    connect = _seconds(
        query.pop("connect_timeout", None) or os.environ.get(ENV_CONNECT_TIMEOUT),
        DEFAULT_CONNECT_TIMEOUT,
        "connect_timeout",
    )
    statement = _seconds(
        query.pop("statement_timeout", None) or os.environ.get(ENV_STATEMENT_TIMEOUT),
        DEFAULT_STATEMENT_TIMEOUT,
        "statement_timeout",
    )
    args: dict = {}
    if url.get_driver_name() in ("psycopg2", "psycopg"):
        args = {
            "connect_timeout": max(connect, 1) if connect else 0,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 6,
        }
        options = query.pop("options", "")
        options = f"{options} -c statement_timeout={statement * 1000}".strip()
        args["options"] = options
    elif url.get_driver_name() == "pg8000":
        args = {"timeout": connect or None}
    return url.set(query=query), args, connect


def _create_engine(url_text: str) -> tuple[Engine, bool]:
    try:
        url = sa.engine.make_url(url_text)
    except Exception as exc:  # noqa: BLE001 - a bad URL, shown masked
        raise StoreError(
            f"cannot open store {safe_url(url_text)}: not a database URL or SQLite path "
            f"({mask_secrets(_one_line(str(exc)), url_text)})"
        ) from None
    backend = url.get_backend_name()
    read_only = False
    kwargs: dict = {}
    timeout = None
    if backend == "sqlite":
        path = url.database or ""
        read_only = _sqlite_read_only(path)
        if read_only:
            # a WAL store on a read-only mount cannot even be read without ``immutable``
            uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1"
            kwargs["creator"] = lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
    elif backend == "postgresql":
        url, connect_args, timeout = _postgres_args(url)
        kwargs["connect_args"] = connect_args
    try:
        engine = sa.create_engine(url, **kwargs)
    except Exception as exc:  # noqa: BLE001 - driver missing, bad options: one masked line
        detail = mask_secrets(_one_line(str(exc)), url_text)
        if isinstance(exc, ModuleNotFoundError):
            detail = f"its driver is not installed ({detail}; pip install {exc.name})"
        raise StoreError(f"cannot open store {safe_url(url_text)}: {detail}") from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)

    def translate(ctx) -> BaseException | None:
        exc = ctx.original_exception
        if backend == "postgresql" and ctx.connection is None:
            if isinstance(ctx.sqlalchemy_exception, sa.exc.OperationalError):
                return _connect_error(ctx.sqlalchemy_exception, url, timeout)
        return store_error(ctx.sqlalchemy_exception or exc, url)

    sa.event.listen(engine, "handle_error", translate)
    return engine, read_only


# --- schema -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaState:
    """What a database holds: ``state`` is empty, current, outdated, foreign or unknown."""

    state: str
    revisions: frozenset[str]
    heads: frozenset[str]
    tables: tuple[str, ...]

    def describe(self) -> str:
        revs = ", ".join(sorted(self.revisions)) or "none"
        return {
            "empty": "empty (the tracker schema will be created)",
            "current": f"tracker store, schema current (revisions {revs})",
            "outdated": (
                f"tracker store, schema outdated (revisions {revs}; this tracker has "
                f"{', '.join(sorted(self.heads))})"
            ),
            "foreign": "not a tracker store (it holds other tables and no tracker schema)",
            "unknown": f"schema revisions {revs} unknown to this tracker",
        }[self.state]


def _alembic_config(engine: Engine, connection: Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _script_revisions() -> tuple[frozenset[str], frozenset[str]]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(None))  # type: ignore[arg-type]
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return known, frozenset(script.get_heads())


def schema_state(conn: Connection) -> SchemaState:
    """Inspect what ``conn``'s database holds (reads only)."""
    known, heads = _script_revisions()
    tables = sorted(
        t
        for t in sa.inspect(conn).get_table_names()
        if t not in _EXTENSION_TABLES and not t.startswith("sqlite_")
    )
    revisions: frozenset[str] = frozenset()
    if "alembic_version" in tables:
        revisions = frozenset(
            r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        )
    others = tuple(t for t in tables if t != "alembic_version")
    if not tables:
        state = "empty"
    elif revisions - known:
        state = "unknown"
    elif not revisions:
        state = "foreign"
    elif revisions == heads:
        state = "current"
    else:
        state = "outdated"
    return SchemaState(state, revisions, heads, others)


def advisory_lock_id(name: str) -> int:
    """A stable 63-bit key for ``pg_advisory_xact_lock`` from a name."""
    return zlib.crc32(f"tracker:{name}".encode()) | (0x7472 << 32)


def _refusal(state: SchemaState, where: str) -> StoreError:
    if state.state == "foreign":
        listed = ", ".join(state.tables[:5]) + (", ..." if len(state.tables) > 5 else "")
        return StoreError(
            f"{where} is not a tracker store: it holds other tables ({listed}) and no tracker "
            "schema; nothing was changed. Give another --db, or run `tracker --db ... db init` "
            "to add tracker's tables to this database"
        )
    return StoreError(
        f"{where}: {state.describe()} (a store made by a newer tracker, or another "
        "application's database); nothing was changed: upgrade tracker or give another --db"
    )


def _migrate_locked(engine: Engine, where: str, *, init: bool) -> None:
    """Create or upgrade the schema under a lock, inspecting it again once the lock is held."""
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
        elif conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_id("migrate"))))
        state = schema_state(conn)
        if state.state == "current":
            return
        if state.state == "unknown" or (state.state == "foreign" and not init):
            raise _refusal(state, where)
        command.upgrade(_alembic_config(engine, conn), "heads")


def upgrade_schema(engine: Engine, *, init: bool = False, read_only: bool = False) -> SchemaState:
    """Create or upgrade every table to the newest migration (all heads); returns the state
    found before. A store whose schema is current is not written to (except, once, to put a
    SQLite store in WAL mode); a read-only one that needs a migration is refused."""
    where = _where(engine.url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            state = schema_state(conn)
        if state.state == "unknown" or (state.state == "foreign" and not init):
            raise _refusal(state, where)
        if sqlite and not read_only:
            _sqlite_wal(engine)
        if state.state == "current":
            return state
        if read_only:
            raise StoreError(
                f"{where}: {state.describe()}, and the store is read-only; nothing was "
                "changed: open it once with write access (any tracker command) to upgrade it"
            )
        _migrate_locked(engine, where, init=init)
    except StoreError as exc:
        if state_is_readonly(exc) and "nothing was changed" not in str(exc):
            raise StoreError(
                f"{where}: cannot create or upgrade the tracker schema, the store is read-only; "
                "open it once with write access (any tracker command) to upgrade it"
            ) from None
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot create or upgrade the schema of {where}: {_driver_message(exc)}"
        ) from None
    return state


def state_is_readonly(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "read-only" in text or "readonly" in text


def open_store(db: str | None = None, *, migrate: bool = True, init: bool = False) -> Store:
    """Open the store named by ``db`` (URL or SQLite path), ``$TRACKER_DB`` or ``./tracker.db``.

    An empty database is given the tracker schema and an outdated one is upgraded unless
    ``migrate`` is false; a database holding other tables is refused unless ``init``.
    """
    url = database_url(db)
    engine, read_only = _create_engine(url)
    if migrate or init:
        try:
            upgrade_schema(engine, init=init, read_only=read_only)
        except BaseException:
            engine.dispose()
            raise
    return Store(engine=engine, url=url, read_only=read_only)
