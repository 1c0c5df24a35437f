"""Alerts: rules validated with errors naming rule and field, matching, fire-once across runs
and processes (SQLite and PostgreSQL), e-mail to a real SMTP server, webhook retried after a
failure, JSON lines; every peer is real, on loopback, port 0."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from shapely import contains_xy
from shapely.geometry import shape
from tracks import voyage

from tracker.analysis.alert_rules import AlertRule, match_rules, parse_rules
from tracker.cli import cli
from tracker.jobs.alerts import refresh_events, run_alerts
from tracker.sources.ais.synth import track_to_nmea, write_nmea
from tracker.sources.ports import read_geofences
from tracker.sources.sanctions.watchlist import read_watchlist
from tracker.store import open_store
from tracker.store.alerts import read_deliveries
from tracker.store.sanctions import store_list

ROOT = Path(__file__).resolve().parents[1]
CONAKRY = ROOT / "data" / "ports" / "conakry.geojson"
BERTH = (-13.712, 9.515)
OFFSHORE = (-14.6, 9.1)
WATCHED, OTHER = 999004001, 999004002
NAME = "FICTITIOUS WATCHED"


def _conakry_polygon():
    feats = json.loads(CONAKRY.read_text())["features"]
    return [shape(f["geometry"]) for f in feats]


@pytest.fixture
def voyage_store(tmp_path):
    """A store URL factory: a watched and an unwatched fictitious ship call at Conakry."""

    def make(url: str) -> tuple[str, pd.DataFrame]:
        track = voyage(
            ("sail", [OFFSHORE, BERTH], 10.0), ("stay", 30), ("sail", [BERTH, OFFSHORE], 10.0)
        )
        lines = track_to_nmea(track, mmsi=WATCHED, name=NAME) + track_to_nmea(
            track, mmsi=OTHER, name="FICTITIOUS FREE"
        )
        path = write_nmea(tmp_path / "voyage.nmea", lines)
        out = CliRunner().invoke(cli, ["--db", url, "ingest", "ais", str(path)])
        assert out.exit_code == 0, out.output
        watch = tmp_path / "watch.csv"
        watch.write_text(f"name,mmsi,reason\n{NAME},{WATCHED},arms shipment suspect\n")
        store = open_store(url)
        store_list(store, read_watchlist(watch, edition=date(2025, 1, 1)))
        store.dispose()
        return url, track

    return make


def _rules(tmp_path: Path, rules: list[dict], notify: dict | None = None) -> Path:
    notify = notify or {"jsonl": {"path": str(tmp_path / "alerts.jsonl")}}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"notify": notify, "rules": rules}))
    return path


ENTER = {
    "name": "watched-enters-conakry",
    "when": "geofence_enter",
    "vessels": {"lists": ["watchlist"]},
    "port": "CONAKRY",
    "notify": ["jsonl"],
}


def test_check_names_rule_and_field_of_every_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "notify": {"webhook": {"url": "ftp://x"}},
                "rules": [
                    {"name": "no-when", "vessels": {"mmsi": [WATCHED]}},
                    {"name": "bad-box", "when": "port_call_start", "area": {"bbox": [10, 5, 0, 6]}},
                    {"name": "far-route", "when": "near_route", "within_km": -3},
                    {"name": "bad-hours", "when": "gap_start", "hours": "25-3", "colour": "red"},
                    {"name": "no-channel", "when": "encounter", "notify": ["email"]},
                    {"when": "sighting"},
                    {"name": "fine", "when": "encounter"},
                ],
            }
        )
    )
    out = CliRunner().invoke(cli, ["alerts", "check", str(path)])
    assert out.exit_code == 2
    lines = [ln for ln in out.stderr.splitlines() if ln]
    expected = [
        "notify: webhook: url:",
        "rule 'no-when': when:",
        "rule 'bad-box': area.bbox:",
        "rule 'far-route': route: missing",
        "rule 'far-route': within_km:",
        "rule 'bad-hours': hours:",
        "rule 'bad-hours': colour: unknown field",
        "rule 'no-channel': notify:",
        "rule #6: name: missing",
    ]
    for text in expected:
        assert sum(text in ln for ln in lines) == 1, (text, lines)
    assert len(lines) == len(expected)
    assert not any("'fine'" in ln for ln in lines)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"rules": [ENTER | {"notify": []}]}))
    ok = CliRunner().invoke(cli, ["alerts", "check", str(good)])
    assert ok.exit_code == 0 and "1 rules" in ok.output


def test_match_rules_filters_by_kind_area_hours_and_likely_disabled():
    rows = [
        # when, mmsi, key, at, lon, lat, likely_disabled
        ("gap_start", 1, "g1", "2025-01-01T02:00Z", 5.0, 5.0, True),
        ("gap_start", 1, "g2", "2025-01-01T12:00Z", 5.0, 5.0, True),  # outside hours
        ("gap_start", 1, "g3", "2025-01-01T03:00Z", 5.0, 5.0, False),  # not likely disabled
        ("gap_start", 1, "g4", "2025-01-01T03:00Z", 50.0, 5.0, True),  # outside the bbox
        ("gap_start", 2, "g5", "2025-01-01T03:00Z", 5.0, 5.0, True),  # not watched
    ]
    cands = pd.DataFrame(
        [
            {
                "when": w,
                "mmsi": m,
                "other_mmsi": None,
                "event_key": k,
                "at": pd.Timestamp(t),
                "lon": x,
                "lat": y,
                "place": None,
                "kind": "gap",
                "likely_disabled": d,
            }
            for w, m, k, t, x, y, d in rows
        ]
    )
    watched = pd.DataFrame(
        [
            {
                "mmsi": 1,
                "imo": None,
                "list": "ofac",
                "method": "imo",
                "reason": "IMO equal",
                "name": "X",
            }
        ]
    )
    rule = AlertRule(
        name="dark-night",
        when="gap_start",
        likely_disabled=True,
        hours=(22, 6),
        bbox=(0.0, 0.0, 10.0, 10.0),
    )
    found = match_rules(cands, [rule], watched)
    assert list(found["event_key"]) == ["g1"]
    assert "ofac" in found["watch_reason"].iloc[0]
    everyone = AlertRule(name="all", when="gap_start", any_vessel=True)
    assert sorted(match_rules(cands, [everyone], watched)["event_key"]) == [
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
    ]
    by_mmsi = AlertRule(name="m2", when="gap_start", mmsi=(2,))
    assert list(match_rules(cands, [by_mmsi], watched)["event_key"]) == ["g5"]
    assert parse_rules({"rules": [{"name": "x", "when": "gap_start", "hours": "22-06"}]})[0].rules[
        0
    ].hours == (22, 6)


def _run_cli(url: str, rules: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker",
            "--db",
            url,
            "alerts",
            "run",
            "--rules",
            str(rules),
            "--json",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_entry_alert_fires_once_across_sequential_and_concurrent_runs(
    db_url, voyage_store, tmp_path
):
    url, track = voyage_store(db_url)
    rules = _rules(tmp_path, [ENTER])
    results = [_finish(_run_cli(url, rules)), _finish(_run_cli(url, rules))]
    procs = [_run_cli(url, rules), _run_cli(url, rules)]
    results += [_finish(p) for p in procs]
    assert sum(r["fired"] for r in results) == 1
    assert results[0]["fired"] == 1  # the first run fires, the others find it fired
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT rule, mmsi, at FROM alerts")).all()
        deliveries = conn.execute(
            sa.text("SELECT channel, attempts, delivered_at FROM alert_deliveries")
        ).all()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [("watched-enters-conakry", WATCHED)]
    assert len(deliveries) == 1 and deliveries[0][0] == "jsonl" and deliveries[0][2] is not None
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    # oracle: the first generated fix inside the Conakry polygons, from shapely on the track
    inside = pd.Series(False, index=track.index)
    for poly in _conakry_polygon():
        inside |= contains_xy(poly, track["lon"].to_numpy(), track["lat"].to_numpy())
    first_in = track.loc[inside, "ts"].min()
    assert abs(pd.Timestamp(alert["at"]) - first_in) <= pd.Timedelta(hours=1)
    assert alert["vessel"] == NAME and alert["place"] == "CONAKRY"
    assert "listed by watchlist" in alert["sanctions"] and "watchlist" in alert["watch_reason"]
    assert alert["evidence"]["lineage"][0]["path"].endswith("voyage.nmea")
    assert alert["evidence"]["lineage"][0]["line"] >= 1
    assert Path(alert["map"]).is_file() and "folium" in Path(alert["map"]).read_text()


def test_email_alert_reaches_a_real_smtp_server(voyage_store, sqlite_url, tmp_path):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    class PortZeroController(Controller):
        """aiosmtpd's start-up self-check connects to ``self.port``: give it the bound port."""

        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    inbox = Inbox()
    controller = PortZeroController(inbox, hostname="127.0.0.1", port=0, ready_timeout=10)
    controller.start()
    try:
        port = controller.port
        assert port != 0
        url, _ = voyage_store(sqlite_url)
        rules = _rules(
            tmp_path,
            [ENTER | {"notify": ["email"]}],
            {
                "email": {
                    "host": "127.0.0.1",
                    "port": port,
                    "from": "tracker@example.org",
                    "to": ["analyst@example.org"],
                }
            },
        )
        out = CliRunner().invoke(
            cli, ["--db", url, "alerts", "run", "--rules", str(rules), "--json"]
        )
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["delivered"] == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    from email import message_from_bytes

    msg = message_from_bytes(inbox.messages[0].content)
    assert inbox.messages[0].rcpt_tos == ["analyst@example.org"]
    assert NAME in msg["Subject"] and "watched-enters-conakry" in msg["Subject"]
    body = msg.get_payload(decode=True).decode()
    assert NAME in body and "watched-enters-conakry" in body and "CONAKRY" in body
    assert "voyage.nmea line" in body and "Map: " in body


def test_failed_webhook_is_kept_and_retried_until_delivered(voyage_store, sqlite_url, tmp_path):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            self.send_response(500 if len(received) == 1 else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    server.timeout = 10
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url, _ = voyage_store(sqlite_url)
        rules_path = _rules(
            tmp_path,
            [ENTER | {"notify": ["webhook"]}],
            {"webhook": {"url": f"http://127.0.0.1:{server.server_address[1]}/hook"}},
        )
        from tracker.analysis.alert_rules import read_rules

        ruleset, problems = read_rules(rules_path)
        assert problems == []
        store = open_store(url)
        refresh_events(store, read_geofences(CONAKRY))
        first = run_alerts(store, ruleset, attempts=1, backoff_s=0.01)
        assert (first.fired, first.delivered, first.failed, first.pending) == (1, 0, 1, 1)
        d = read_deliveries(store)
        assert (
            len(d) == 1 and d["delivered_at"].isna().all() and "HTTP 500" in d["last_error"].iloc[0]
        )
        second = run_alerts(store, ruleset, attempts=3, backoff_s=0.01)
        assert (second.fired, second.delivered, second.pending) == (0, 1, 0)
        third = run_alerts(store, ruleset, attempts=3, backoff_s=0.01)
        assert (third.fired, third.delivered) == (0, 0)
        d = read_deliveries(store)
        store.dispose()
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 2  # the failed post and the retry, nothing more
    assert len(d) == 1 and d["delivered_at"].notna().all() and int(d["attempts"].iloc[0]) == 2
    log = d["log"].iloc[0]
    assert [a["ok"] for a in log] == [False, True] and "500" in log[0]["error"]
    assert NAME in received[1]["text"] and received[1]["alert"]["mmsi"] == WATCHED
    listed = CliRunner().invoke(cli, ["--db", url, "alerts", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["rule"], r["mmsi"], r["deliveries"]) for r in rows] == [
        ("watched-enters-conakry", WATCHED, {"webhook": "delivered"})
    ]
    text = CliRunner().invoke(cli, ["--db", url, "alerts", "list"])
    assert text.exit_code == 0 and NAME in text.output and text.output.endswith("1 alerts\n")


def test_area_crossings_identity_change_and_route_proximity(sqlite_url, tmp_path):
    import numpy as np
    from pyproj import Geod
    from shapely.geometry import LineString

    from tracker.analysis.alert_rules import read_rules
    from tracker.sources.routes import Route
    from tracker.store.alerts import read_alerts
    from tracker.store.sightings import store_route

    track = voyage(
        ("sail", [OFFSHORE, BERTH], 10.0), ("stay", 30), ("sail", [BERTH, OFFSHORE], 10.0)
    )
    half = len(track) // 2
    lines = (
        track_to_nmea(track.iloc[:half], mmsi=WATCHED, name=NAME)
        + track_to_nmea(track.iloc[half:], mmsi=WATCHED, name="FICTITIOUS RENAMED")
        + track_to_nmea(track, mmsi=OTHER, name="FICTITIOUS FREE")
    )
    path = write_nmea(tmp_path / "voyage.nmea", lines)
    assert CliRunner().invoke(cli, ["--db", sqlite_url, "ingest", "ais", str(path)]).exit_code == 0
    watch = tmp_path / "watch.csv"
    watch.write_text(f"name,mmsi,reason\n{NAME},{WATCHED},arms shipment suspect\n")
    store = open_store(sqlite_url)
    store_list(store, read_watchlist(watch, edition=date(2025, 1, 1)))
    route_line = LineString([(-13.70, 9.50), (-13.50, 9.70)])
    store_route(store, Route(name="test-route", line=route_line))
    from tracker.sources.sightings import sightings_frame
    from tracker.store.sightings import store_sightings

    seen = [
        {
            "key": f"test-sighting-{m}",
            "time": track["ts"].iloc[half],
            "time_uncertainty_h": 0.0,
            "lon": BERTH[0],
            "lat": BERTH[1],
            "radius_m": 100.0,
            "kind": "photo",
            "source": "fictitious test photo",
            "vessel_mmsi": m,
            "vehicles": {},
        }
        for m in (WATCHED, OTHER)
    ]
    store_sightings(store, sightings_frame(seen))
    box = [(-14.3, 9.15), (-14.1, 9.15), (-14.1, 9.35), (-14.3, 9.35)]
    rules_path = _rules(
        tmp_path,
        [
            {"name": "box-in", "when": "geofence_enter", "area": {"polygon": box}},
            {"name": "box-out", "when": "geofence_exit", "area": {"polygon": box}},
            {"name": "renamed", "when": "identity_change", "attributes": ["name"]},
            {"name": "seen", "when": "sighting"},
            {"name": "near-road", "when": "near_route", "route": "test-route", "within_km": 5},
        ],
    )
    ruleset, problems = read_rules(rules_path)
    assert problems == []
    summary = run_alerts(store, ruleset, notify=False)
    alerts = read_alerts(store)
    store.dispose()
    by_rule = {r: g for r, g in alerts.groupby("rule")}
    assert set(alerts["mmsi"]) == {WATCHED}
    # oracle: transitions of the generated track across the box (pandas over the track)
    inside = track["lon"].between(-14.3, -14.1) & track["lat"].between(9.15, 9.35)
    flips = inside.ne(inside.shift()) & inside.shift().notna()
    assert int((flips & inside).sum()) == 2 and int((flips & ~inside).sum()) == 2  # by hand too
    enters = sorted(pd.Timestamp(t) for t in track.loc[flips & inside, "ts"])
    exits = sorted(pd.Timestamp(t) for t in track.loc[flips & ~inside, "ts"])
    assert sorted(pd.Timestamp(t) for t in by_rule["box-in"]["at"]) == enters
    assert sorted(pd.Timestamp(t) for t in by_rule["box-out"]["at"]) == exits
    renamed = by_rule["renamed"]
    assert len(renamed) == 1
    assert (
        NAME in renamed["payload"].iloc[0]["place"]
        and "RENAMED" in renamed["payload"].iloc[0]["place"]
    )
    # oracle: geodesic distance (pyproj Geod) to a densified route line, first fix within 5 km
    geod = Geod(ellps="WGS84")
    pts = [route_line.interpolate(f, normalized=True) for f in np.linspace(0, 1, 400)]
    dist = [
        min(geod.inv(lon, lat, p.x, p.y)[2] for p in pts) / 1000
        for lon, lat in zip(track["lon"], track["lat"], strict=True)
    ]
    first_near = track["ts"][np.array(dist) <= 5.0].min()
    near = by_rule["near-road"]
    assert len(near) == 1
    assert abs(pd.Timestamp(near["at"].iloc[0]) - first_near) <= pd.Timedelta(minutes=10)
    sighted = by_rule["seen"]
    assert list(sighted["event_key"]) == [f"sighting:test-sighting-{WATCHED}"]
    assert summary.fired == len(alerts) == 7


def test_email_uses_starttls_when_offered_and_logs_in_from_the_environment(
    voyage_store, sqlite_url, tmp_path, monkeypatch
):
    import shutil
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    assert shutil.which("openssl"), "openssl is needed to make the test server's certificate"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins, received = [], []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.password == b"s3cret")

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope, session.ssl is not None))
            return "250 OK"

    class PortZeroController(Controller):
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = PortZeroController(
        Inbox(),
        hostname="127.0.0.1",
        port=0,
        ready_timeout=10,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        url, _ = voyage_store(sqlite_url)
        monkeypatch.setenv("TEST_SMTP_USER", "analyst")
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        rules = _rules(
            tmp_path,
            [ENTER | {"notify": ["email"]}],
            {
                "email": {
                    "host": "127.0.0.1",
                    "port": controller.port,
                    "from": "t@example.org",
                    "to": "a@example.org",
                    "cafile": str(cert),
                    "user_env": "TEST_SMTP_USER",
                    "password_env": "TEST_SMTP_PASSWORD",
                }
            },
        )
        out = CliRunner().invoke(
            cli, ["--db", url, "alerts", "run", "--rules", str(rules), "--json"]
        )
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["delivered"] == 1
    finally:
        controller.stop()
    assert logins == [(b"analyst", b"s3cret", True)]
    assert len(received) == 1 and received[0][1] is True  # the message went over TLS
