"""Shared fixtures: real data from ../shared/data, stores on SQLite and PostgreSQL/PostGIS."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_data_dir() -> Path | None:
    """``$TRACKER_SHARED_DATA`` or ``../shared/data`` beside the checkout, if present."""
    env = os.environ.get("TRACKER_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "data", ROOT / ".." / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return None


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: real data and services are required)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data folder; skips (fails under CI=true) when absent."""
    path = shared_data_dir()
    if path is None:
        _missing(
            "real data not found: set $TRACKER_SHARED_DATA or put shared/data beside the checkout"
        )
    return path


@pytest.fixture
def shared_file(shared_data):
    """Return a function giving one file under shared/data, skipping when that file is absent."""

    def get(relative: str) -> Path:
        path = shared_data / relative
        if not path.exists():
            _missing(f"real data file missing: {path}")
        return path

    return get


PG_ADMIN_URL = os.environ.get(
    "TRACKER_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database with PostGIS; dropped after the test."""
    sa = pytest.importorskip("sqlalchemy")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _missing("psycopg2 not installed (pip install -e .[postgis])")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means no server
        admin.dispose()
        _missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A store URL on each backend: a real SQLite file, and a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A store URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture(scope="session")
def project_data_dir() -> Path:
    """The project's own ``data/`` folder (port geofences, routes, watchlists, sightings)."""
    return ROOT / "data"
