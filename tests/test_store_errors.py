"""Store errors are one line naming the file or the (password-masked) URL and what to do:
unreachable or silent PostgreSQL servers, missing drivers, other applications' databases,
read-only stores, a full disk. Never a traceback, never a password."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_store_concurrency import fleet_file, store_digest

from tracker.cli import main
from tracker.store import engine as store_engine
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file

ROOT = Path(__file__).resolve().parent.parent
SECRET = "S3cretPw"


def tracker(*args: str, env: dict | None = None, user: int | None = None, timeout: int = 60):
    """Run ``python -m tracker ARGS``; returns (exit status, stdout, stderr, seconds)."""
    cmd = [sys.executable, "-m", "tracker", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    full_env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB", "TRACKER_DEBUG")}
    full_env.update(PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    start = time.monotonic()
    done = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=tempfile.gettempdir(),  # never ./tracker.db of the checkout
        env=full_env,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


def assert_one_line(rc: int, out: str, err: str, *needles: str) -> None:
    assert rc != 0, (out, err)
    assert "Traceback" not in err + out, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracker: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- secrets and connections ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url, needle",
    [
        (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1:1/x", "cannot connect to"),
        (f"postgresql+asyncpg://u:{SECRET}@127.0.0.1:1/x", "driver is not installed"),
        (f"postgresql+pg8000://u:{SECRET}@127.0.0.1:1/x", "driver is not installed"),
        (f"postgresql+nosuchdriver://u:{SECRET}@127.0.0.1:1/x", "cannot open store"),
    ],
)
def test_password_never_printed(url, needle):
    for args in (["vessels", "list"], ["db", "info"]):
        rc, out, err, _ = tracker("--db", url, *args)
        assert SECRET not in out + err
        assert_one_line(rc, out, err, needle, "u:***@127.0.0.1")
    rc, out, err, _ = tracker("vessels", "list", env={"TRACKER_DB": url})
    assert SECRET not in out + err
    assert_one_line(rc, out, err, needle)


def test_url_masking_helpers():
    url = f"postgresql+psycopg2://u:{SECRET}@h/x"
    assert SECRET not in store_engine.safe_url(url)
    assert SECRET not in store_engine.safe_url(f"not a url://u:{SECRET}@h")
    text = f"failed for {url} and password={SECRET}"
    assert SECRET not in store_engine.mask_secrets(text, url)


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_silent_server_left_within_the_connect_timeout(silent_server):
    url = f"postgresql+psycopg2://u:{SECRET}@127.0.0.1:{silent_server}/x"
    rc, out, err, took = tracker("--db", f"{url}?connect_timeout=2", "vessels", "list")
    assert took < 20, took
    assert SECRET not in out + err
    assert_one_line(rc, out, err, "cannot connect to", "connect timeout")
    rc, out, err, took = tracker(
        "--db", url, "vessels", "list", env={"TRACKER_PG_CONNECT_TIMEOUT": "2"}
    )
    assert took < 20, took
    assert_one_line(rc, out, err, "timeout")


def test_statement_timeout_from_the_url(pg_url):
    store = open_store(f"{pg_url}?statement_timeout=1")
    try:
        with pytest.raises(Exception, match="statement timeout"), store.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_sleep(3)"))
    finally:
        store.dispose()


# --- other applications' databases ---------------------------------------------------------


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_foreign_sqlite_database_is_refused_until_db_init(tmp_path):
    other = tmp_path / "crm.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('FICTITIOUS Ltd')")
    before = _file_sha(other)
    for args in (["vessels", "list"], ["events", "list"], ["db", "info"]):
        rc, out, err, _ = tracker("--db", str(other), *args)
        if args == ["db", "info"]:
            assert rc == 0 and "not a tracker store" in out, (out, err)
        else:
            assert_one_line(rc, out, err, str(other), "not a tracker store", "db init")
    assert _file_sha(other) == before
    assert not Path(f"{other}-wal").exists() or Path(f"{other}-wal").stat().st_size == 0
    with sqlite3.connect(other) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"customers"}
    rc, out, err, _ = tracker("--db", str(other), "db", "init")
    assert rc == 0, err
    rc, out, err, _ = tracker("--db", str(other), "vessels", "list")
    assert rc == 0 and "no vessels" in out, (out, err)
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT name FROM customers").fetchall() == [("FICTITIOUS Ltd",)]


def test_foreign_postgres_database_is_refused(pg_url):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id int)"))
    rc, out, err, _ = tracker("--db", pg_url, "vessels", "list")
    assert_one_line(rc, out, err, "not a tracker store", "customers")
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert names == {"customers", "spatial_ref_sys"}


def test_empty_new_store_is_still_created_by_any_command(tmp_path):
    path = tmp_path / "new" / "tracker.db"
    path.parent.mkdir()
    rc, out, err, _ = tracker("--db", str(path), "vessels", "list")
    assert rc == 0 and "no vessels" in out, err
    rc, out, err, _ = tracker("--db", str(path), "db", "info", "--json")
    assert rc == 0 and '"state": "current"' in out, (out, err)


# --- read-only stores ----------------------------------------------------------------------


@pytest.fixture
def readonly_store(tmp_path):
    """A store with FICTITIOUS ships in a folder we then make read-only; as root the commands
    run as ``nobody`` (root ignores permissions)."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-ro-"))
    folder.chmod(0o755)
    nmea, n_pos = fleet_file(tmp_path, 0)
    db = folder / "tracker.db"
    store = open_store(str(db))
    ingest_ais_file(store, nmea)
    store.dispose()
    assert not Path(f"{db}-wal").exists()  # closed cleanly: only the file remains
    db.chmod(0o444)
    folder.chmod(0o555)
    user = 65534 if os.geteuid() == 0 else None
    yield db, n_pos, user
    folder.chmod(0o755)
    shutil.rmtree(folder)


def test_read_commands_work_on_a_read_only_store(readonly_store, tmp_path):
    db, n_pos, user = readonly_store
    before = _file_sha(db)
    rc, out, err, _ = tracker("--db", str(db), "vessels", "list", user=user)
    assert rc == 0, err
    assert out.count("FICTITIOUS") == 4, out
    rc, out, err, _ = tracker("--db", str(db), "db", "info", "--json", user=user)
    assert rc == 0 and f'"positions": {n_pos}' in out and '"read_only": true' in out, (out, err)
    inputs = Path(tempfile.mkdtemp(prefix="tracker-in-"))
    try:
        inputs.chmod(0o755)
        nmea, _ = fleet_file(inputs, 1)
        rc, out, err, _ = tracker("--db", str(db), "ingest", "ais", str(nmea), user=user)
    finally:
        shutil.rmtree(inputs)
    assert_one_line(rc, out, err, str(db), "read-only")
    assert _file_sha(db) == before


def test_outdated_read_only_store_is_refused_with_one_line(readonly_store):
    db, _, user = readonly_store
    db.parent.chmod(0o755)
    db.chmod(0o644)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM alembic_version WHERE version_num = '0004'")
    conn.close()
    db.chmod(0o444)
    db.parent.chmod(0o555)
    rc, out, err, _ = tracker("--db", str(db), "vessels", "list", user=user)
    assert_one_line(rc, out, err, str(db), "read-only", "upgrade")


# --- a full disk ---------------------------------------------------------------------------


def test_full_disk_is_one_line_and_leaves_the_store_consistent(tmp_path, monkeypatch, capsys):
    first, _ = fleet_file(tmp_path, 0)
    second, n_second = fleet_file(tmp_path, 1)
    oracle = f"sqlite:///{tmp_path / 'oracle.db'}"
    store = open_store(oracle)
    ingest_ais_file(store, first)
    ingest_ais_file(store, second)
    store.dispose()
    expected = store_digest(oracle)

    db = tmp_path / "full.db"
    store = open_store(str(db))
    ingest_ais_file(store, first)
    store.dispose()
    with sqlite3.connect(db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    plain = store_engine._sqlite_pragmas

    def full_disk(dbapi_conn, record):  # the disk holds only a few more pages
        plain(dbapi_conn, record)
        dbapi_conn.execute(f"PRAGMA max_page_count={pages + 8}")

    monkeypatch.setattr(store_engine, "_sqlite_pragmas", full_disk)
    status = main(["--db", str(db), "ingest", "ais", str(second), "--batch-size", "100"])
    captured = capsys.readouterr()
    assert_one_line(status, captured.out, captured.err, str(db), "disk full", "free space")
    assert "INSERT" not in captured.err
    monkeypatch.setattr(store_engine, "_sqlite_pragmas", plain)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT count(*) FROM positions").fetchone()[0]
        by_runs = conn.execute("SELECT sum(positions) FROM ingest_runs").fetchone()[0]
        by_vessels = conn.execute("SELECT sum(positions) FROM vessels").fetchone()[0]
    conn.close()
    assert stored == by_runs == by_vessels < expected[0]["positions"]
    # with space again, the same command completes the file: the store of a clean run
    assert main(["--db", str(db), "ingest", "ais", str(second)]) == 0
    assert store_digest(f"sqlite:///{db}") == expected
    assert n_second > 0
