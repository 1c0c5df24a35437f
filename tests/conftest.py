"""Shared fixtures: real data from ../shared/data, stores on SQLite and PostgreSQL/PostGIS."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def _fresh_pg_database():
    """A fresh, empty PostgreSQL database with PostGIS (its URL); dropped afterwards."""
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
    probe = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with probe.connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:  # noqa: BLE001 - the server lacks the PostGIS extension
        probe.dispose()
        _drop_database(admin, name)
        _missing(
            f"PostGIS is not installed on the PostgreSQL server at {PG_ADMIN_URL} "
            "(Debian: apt-get install postgresql-15-postgis-3, or the package of your server's "
            f"version): {str(exc).splitlines()[0]}"
        )
    probe.dispose()
    try:
        yield url
    finally:
        _drop_database(admin, name)


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database with PostGIS; dropped after the test."""
    with _fresh_pg_database() as url:
        yield url


@pytest.fixture
def second_pg_url(pg_url):
    """Another fresh database on the same server, for tests that compare two stores."""
    with _fresh_pg_database() as url:
        yield url


def _drop_database(admin, name: str) -> None:
    import sqlalchemy as sa

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


CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TRACKER_CHROMEDRIVER", "/usr/bin/chromedriver")
#: Where tests leave files for people to look at (screenshots); CI keeps this folder.
ARTIFACTS = Path(os.environ.get("TRACKER_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium driven by selenium (Debian chromium + chromium-driver)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium not installed (pip install -e .[dev])")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        _missing(
            f"Chromium not found at {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def case_store(tmp_path_factory):
    """A SQLite store with two FICTITIOUS ships (one watchlisted, one calling at Conakry),
    detected events and two sightings."""
    from datetime import UTC, date, datetime

    from tracks import voyage

    from tracker.jobs.detect import KINDS, detect_store
    from tracker.sources.ais.synth import track_to_nmea, write_nmea
    from tracker.sources.ports import read_geofences
    from tracker.sources.sanctions.watchlist import read_watchlist
    from tracker.sources.sightings import sighting_from_fields, sightings_frame
    from tracker.store import open_store
    from tracker.store.events import replace_events
    from tracker.store.ingest import ingest_ais_file
    from tracker.store.sanctions import read_list_entries, store_list
    from tracker.store.sightings import store_sightings

    T = datetime(2025, 5, 20, tzinfo=UTC)
    QUAY = (-13.715, 9.515)
    tmp = tmp_path_factory.mktemp("case")
    calling = voyage(
        ("sail", [(-14.40, 9.30), (-13.80, 9.45), QUAY], 10.0),
        ("stay", 30),
        ("sail", [QUAY, (-14.3, 9.2)], 10.0),
        start=T,
    )
    passing = voyage(("silent", 2), ("sail", [(-14.6, 9.0), (-13.9, 8.6)], 11.0), start=T)
    lines = track_to_nmea(calling, mmsi=999000031, name="CALLER FICTITIOUS", station="test")
    lines += track_to_nmea(passing, mmsi=999000032, name="PASSER FICTITIOUS", station="test")
    nmea = write_nmea(tmp / "fleet.nmea", lines)
    store = open_store(f"sqlite:///{tmp / 'case.db'}")
    ingest_ais_file(store, nmea)
    watch = tmp / "watch.csv"
    watch.write_text("name,mmsi,reason\nCALLER FICTITIOUS,999000031,FICTITIOUS test entry\n")
    store_list(store, read_watchlist(watch, edition=date(2025, 1, 1)))
    fences = read_geofences()
    found = detect_store(
        store, fences, kinds=KINDS, entries=read_list_entries(store, latest_only=False)
    )
    replace_events(store, found, kinds=KINDS)
    conakry = fences[fences["name"] == "CONAKRY PORT"].geometry.iloc[0]
    s = sightings_frame(
        [
            sighting_from_fields({"time": "2025-05-21T06:00Z", "wkt": conakry.wkt, "kind": "satellite", "source": "FICTITIOUS Imaging Ltd",
                                  "licence": "CC BY 4.0", "vessel_name": "Caller Fictitious", "confidence": "probable", "url": "https://example.org/scene/1"}),
            sighting_from_fields({"time": "2025-05-23T10:00Z", "lon": -9.175151, "lat": 11.419526, "kind": "video", "source": "FICTITIOUS channel",
                                  "vehicles": "truck:12"}),
        ]
    )  # fmt: skip
    store_sightings(store, s)
    return store
