"""``tracker watch`` as a real process against a TCP peer on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from aisutil import lineage_entries
from pyais.encode import encode_dict

from tracker.sources.ais.synth import tag_block
from tracker.store import open_store
from tracker.store.tables import ingest_runs, positions

ROOT = Path(__file__).resolve().parent.parent


def _sentences(n: int) -> list[str]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    out = []
    for i in range(n):
        ts = start + timedelta(seconds=10 * i)
        body = encode_dict(
            {
                "msg_type": 1,
                "mmsi": 999000500 + i % 10,
                "lon": 5.0 + i / 1000,
                "lat": 60.0,
                "speed": 10.0,
                "second": ts.second,
            },
            talker_id="AI",
        )[0]
        out.append(tag_block(ts, station="test") + body)
    return out


def test_watch_stores_a_tcp_feed_and_exits_cleanly_on_sigterm(tmp_path):
    sentences = _sentences(120)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(20)
    port = server.getsockname()[1]
    sent = threading.Event()

    def serve():
        conn, _ = server.accept()
        for i in range(0, len(sentences), 30):
            conn.sendall(("\r\n".join(sentences[i : i + 30]) + "\r\n").encode())
            time.sleep(0.3)
        sent.set()
        time.sleep(20)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    db = tmp_path / "watch.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker",
            "--db",
            str(db),
            "watch",
            "--feed",
            f"tcp://127.0.0.1:{port}",
            "--every",
            "1s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert sent.wait(20), "the watch process never connected"
        time.sleep(2.5)  # at least one cycle after the last batch
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0, err
    assert "msg/s" in err and "watch stopped" in err
    store = open_store(str(db))
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(positions)).scalar()
        mmsis = set(conn.execute(sa.select(positions.c.mmsi).distinct()).scalars())
        run = conn.execute(sa.select(ingest_runs)).mappings().one()
    lines = len(lineage_entries(store.engine))  # messages whose raw text is kept
    assert count == len(sentences) and lines == len(sentences)
    assert mmsis == {999000500 + i for i in range(10)}
    assert run["status"] == "stopped" and run["path"].startswith(f"tcp://127.0.0.1:{port} session ")
