"""The position archive (GeoParquet by day) and detection over it on a real dask.distributed
LocalCluster: the archive holds exactly the store's positions (pandas group-bys of the store as
the oracle), and ``events detect --archive`` finds exactly the store path's events.

Every vessel here is fictitious: MMSIs 999000001-999000005, names "TEST <mmsi> FICTITIOUS".
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pandas as pd
import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("distributed")

import pyarrow.dataset as ds

from tests.tracks import T0, voyage
from tracker.cli import main
from tracker.jobs.archive_detect import ArchiveRun, cluster_client, detect_archive
from tracker.jobs.detect import DetectionNotes, detect_store
from tracker.sources.ais.synth import track_to_nmea, write_nmea
from tracker.sources.ports import read_geofences
from tracker.store import open_store
from tracker.store.ais import read_positions
from tracker.store.events import read_events
from tracker.store.ingest import ingest_ais_file

pytestmark = pytest.mark.slow

TARTUS = (35.8745, 34.9008)  # inside the TARTUS PORT geofence of data/ports/tartus.geojson


def fleet() -> dict[int, pd.DataFrame]:
    """Five fictitious vessels over three days in the eastern Mediterranean: a port call at
    Tartus, a 14 h silence 70+ nm from shore (other vessels heard nearby), two vessels lying
    together at sea for a day and a half (an encounter, and loitering), a one-fix jump."""
    jumpy = voyage(("sail", [(31.5, 33.0), (32.5, 33.2)], 9), start=T0 + timedelta(hours=20))
    jumpy.loc[10, "lon"] = jumpy.loc[10, "lon"] + 1.5  # 140 km away and back in 20 min
    return {
        999000001: voyage(
            ("sail", [(34.9, 34.6), TARTUS], 12),
            ("stay", 30),
            ("sail", [TARTUS, (34.8, 35.3)], 12),
        ),
        999000002: voyage(
            ("sail", [(32.6, 33.2), (33.0, 33.3)], 10),
            ("silent", 14),
            ("sail", [(33.2, 33.35), (34.0, 33.6)], 10),
            start=T0 + timedelta(hours=3),
        ),
        999000003: voyage(
            ("sail", [(32.8, 33.0), (33.3, 33.1)], 8),
            ("stay", 40),
            ("sail", [(33.3, 33.1), (33.9, 32.9)], 8),
            start=T0 + timedelta(hours=6),
        ),
        999000004: voyage(
            ("sail", [(33.6, 33.4), (33.302, 33.101)], 8),
            ("stay", 36),
            ("sail", [(33.302, 33.101), (32.5, 33.4)], 8),
            start=T0 + timedelta(hours=9),
        ),
        999000005: jumpy,
    }


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("archive")
    lines = []
    for mmsi, track in fleet().items():
        lines += track_to_nmea(track, mmsi=mmsi, name=f"TEST {mmsi} FICTITIOUS", station="test")
    nmea = write_nmea(tmp / "fleet-fictitious.nmea", lines)
    db = tmp / "store.db"
    store = open_store(str(db))
    ingest_ais_file(store, nmea)
    out = tmp / "archive"
    assert main(["--db", str(db), "archive", "export", "--out", str(out)]) == 0
    return store, db, out


def _digest(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob("day=*/*.parquet"))
    }


def test_archive_holds_the_stores_positions_by_day(archived):
    store, _, out = archived
    stored = read_positions(store, vessels_only=False)
    assert len(stored) > 800
    want = stored.groupby(stored["ts"].dt.strftime("%Y-%m-%d")).size().to_dict()
    assert len(want) >= 3  # the data spans several UTC days
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    assert "day" in dataset.schema.names  # hive partitioning seen by pyarrow
    table = dataset.to_table(columns=["day", "mmsi", "ts", "lon", "lat", "id"]).to_pandas()
    got = table.groupby(table["day"].astype(str)).size().to_dict()
    assert got == want
    # every row sits in the folder of its own UTC day
    assert (table["ts"].dt.strftime("%Y-%m-%d") == table["day"].astype(str)).all()
    assert sorted(table["id"]) == sorted(stored["id"])


def test_files_are_geoparquet_sorted_by_mmsi_then_time(archived):
    import geopandas as gpd

    store, _, out = archived
    stored = read_positions(store, vessels_only=False).set_index("id")
    files = sorted(out.glob("day=*/input-*.parquet"))
    assert files
    for path in files:
        import pyarrow.parquet as pq

        geo = json.loads(pq.read_schema(path).metadata[b"geo"])
        assert geo["primary_column"] == "geometry"
        assert geo["columns"]["geometry"]["encoding"] == "WKB"
        frame = gpd.read_parquet(path)
        assert frame.crs.to_epsg() == 4326
        keys = list(zip(frame["mmsi"], frame["ts"], strict=True))
        assert keys == sorted(keys)
        ref = stored.loc[frame["id"]]
        assert (frame.geometry.x.to_numpy() == ref["lon"].to_numpy()).all()
        assert (frame.geometry.y.to_numpy() == ref["lat"].to_numpy()).all()
        assert (frame["sog_kn"].to_numpy() == ref["sog_kn"].to_numpy()).all()
    manifest = json.loads((out / "_tracker.json").read_text())
    (entry,) = manifest["inputs"].values()
    assert entry["path"].endswith("fleet-fictitious.nmea") and entry["first_ts"]


def test_dask_geopandas_reads_the_archive(archived):
    dgpd = pytest.importorskip("dask_geopandas")
    store, _, out = archived
    frame = dgpd.read_parquet(sorted(str(p) for p in out.glob("day=*/*.parquet"))).compute()
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == len(read_positions(store, vessels_only=False))


def test_exporting_again_changes_nothing(archived):
    _, db, out = archived
    before = _digest(out)
    assert main(["--db", str(db), "archive", "export", "--out", str(out)]) == 0
    assert _digest(out) == before


def _same_events(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values("key").reset_index(drop=True)
    b = b.sort_values("key").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert list(a["key"]) == list(b["key"])
    for col in a.columns:
        if col == "position_ids":  # arrays: compared id by id (str() elides long ones)
            assert [list(map(int, v)) for v in a[col]] == [list(map(int, v)) for v in b[col]]
            continue
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


def test_archive_detection_on_a_two_worker_cluster_equals_the_store_path(archived):
    store, _, out = archived
    geofences = read_geofences()
    want_notes, got_notes = DetectionNotes(), DetectionNotes()
    want = detect_store(store, geofences, notes=want_notes)
    # the expected events exist (never pass on empty results)
    kinds = set(zip(want["kind"], want["mmsi"], strict=True))
    assert ("port_call", 999000001) in kinds
    assert ("encounter", 999000003) in kinds
    assert ("implausible", 999000005) in kinds
    gap = want[(want["kind"] == "gap") & (want["mmsi"] == 999000002)]
    assert len(gap) == 1 and gap["confidence"].iloc[0] == "likely disabled"
    assert want.loc[want["kind"] == "port_call", "place"].tolist() == ["TARTUS"]
    run = ArchiveRun()
    with cluster_client(n_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        got = detect_archive(out, geofences, client, notes=got_notes, run=run, rows_per_bucket=200)
    assert run.buckets >= 4 and run.encounter_tasks >= 1 and run.coverage_rows > 0
    _same_events(want, got)
    assert got_notes.as_dict() == want_notes.as_dict()


def test_events_detect_archive_stores_what_the_store_path_finds(archived, capsys):
    store, db, out = archived
    args = ["--db", str(db), "events", "detect", "--json"]
    assert main([*args, "--archive", str(out)]) == 0
    captured = capsys.readouterr()
    assert "dask dashboard: http://127.0.0.1:" in captured.err
    first = json.loads(captured.out)
    assert first["added"] >= 6
    stored = read_events(store)
    # the store path finds the same events: nothing added, changed or retracted
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == 0 and again["updated"] == 0 and again["retracted"] == 0
    assert again["unchanged"] == first["added"] == len(stored)
