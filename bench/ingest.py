"""Benchmark: tracker ingest against bare pyais on a real mixed AIS recording, in one run.

    .venv/bin/python bench/ingest.py [--cache DIR] [--repeat 5] [--scale 10] [--gzip]
                                     [--repeats N] [--pg-url URL | --no-pg]
    .venv/bin/python bench/ingest.py --synthetic N      # the earlier fictitious-fleet file
    .venv/bin/python bench/ingest.py FILE [FILE ...]    # any NMEA files you have

Corpus (built once into --cache, default a temporary folder, and checked): the AISHub sample
``ais/aishub/aishub-ais-nmea-sample.log.gz`` of the shared data folder ($TRACKER_SHARED_DATA
or ../shared/data beside the checkout), its comment lines dropped (85,182 sentences: 3 minutes
of the live AISHub feed, 2015), every line given an NMEA 4 tag block
``\\s:aishub<r>,c:<unix time>*hh\\`` (receiver times spread evenly over 3 minutes from
2015-10-06T12:00:00Z), the whole repeated --repeat times (default 5: 425,910 sentences) as the
same traffic heard again by stations aishub1..aishub5 at the same times, so that it holds
multi-part statics, whatever bad lines the feed has and re-heard duplicates. The check parses
every tag block with pyais (checksum, station, time) and counts sentences and type-5 pairs with
pandas on the raw text and with pyais's assembler. --scale K also builds a K-times longer file
(K copies of the corpus, copy k shifted by k x 3 minutes: new transmissions, not repeats) for
the memory check.

Rows, each measured in a fresh subprocess so that its peak RSS is its own:
  line split        reading the file and iterating its lines (the floor of any reader);
  bare pyais        ``pyais.stream.FileReaderStream(path)`` (tag blocks, multi-part) and
                    ``.decode()`` of every message, skipping those that raise;
  tracker ingest    ``ingest_ais_file(open_store(url), path)`` into a fresh SQLite file, into
                    a fresh PostgreSQL database (--pg-url, dropped and recreated per run;
                    psycopg2 when psycopg is not installed; skipped with the reason when
                    unreachable), and with ``fast=False`` /
                    ``workers=1`` when ``ingest_ais_file`` takes those parameters;
  memory flatness   tracker -> SQLite on the --scale file against the 1x corpus.

Speeds are given per input sentence (line) and per message; the message count of every row is
the number of messages bare pyais assembles from the file, so "x pyais" (pyais time / row time
= row speed / pyais speed; > 1 is faster than bare pyais) compares the same work. Peak RSS is
the process's own VmHWM plus the last VmHWM seen (sampled every 20 ms) of every process it
started (an upper bound when they share pages); PSS is the highest sum of the proportional set
sizes of the process and its descendants (sampled every 100 ms; shared pages split between
them: what the run occupies at once); procs counts the process and its descendants (with a
process pool: forkserver, resource tracker and workers). Store bytes: the SQLite file (with any
WAL left), or pg_total_relation_size of the AIS tables (indexes and TOAST included), per stored
position and per input message; the SQLite file is broken down by table and index (dbstat).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import importlib.metadata
import inspect
import json
import operator
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path("ais/aishub/aishub-ais-nmea-sample.log.gz")
#: 2015-10-06T12:00:00Z: the sample was added on that day; the feed gives no times of its own.
T0 = 1_444_132_800
#: The sample is "3 minutes of live AISHub feed data" (its header).
SPAN_S = 180
#: Bump when the corpus text changes, so that a --cache folder is rebuilt.
CORPUS_VERSION = 2
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench"
#: Tables of the AIS store (PostgreSQL size); ``lineage`` is the table raw_blocks replaced.
AIS_TABLES = (
    "positions",
    "static_reports",
    "vessels",
    "raw_blocks",
    "lineage",
    "quarantine",
    "ingest_runs",
)


# --------------------------------------------------------------------------- corpus


def shared_data_dir() -> Path | None:
    """``$TRACKER_SHARED_DATA`` or ``../shared/data`` beside the checkout, if present."""
    env = os.environ.get("TRACKER_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data")
    return next((p.resolve() for p in candidates if p.is_dir()), None)


def nmea_checksum(body: bytes) -> int:
    """XOR of the bytes between the delimiters (NMEA sentences and tag blocks alike)."""
    return functools.reduce(operator.xor, body, 0)


def source_sentences(path: Path) -> list[bytes]:
    """The sample's sentences: comment and blank lines dropped, line ends stripped."""
    with gzip.open(path, "rb") as fh:
        lines = fh.read().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(b"#")]


def receiver_offsets(count: int) -> list[int]:
    """Seconds after T0 of each of ``count`` lines, spread evenly over the 3 minutes."""
    return [(i * SPAN_S) // count for i in range(count)]


def write_corpus(
    out: Path, sentences: list[bytes], *, repeat: int, copies: int = 1, gz: bool = False
) -> None:
    """``copies`` x ``repeat`` x the sentences, each line behind a checksummed tag block.

    Copy k is shifted by k x 3 minutes; within a copy, repetition r is the same traffic heard
    by station ``aishub<r>`` at the same times.
    """
    offsets = receiver_offsets(len(sentences))
    part = out.with_name(out.name + ".part")
    opener = gzip.open(part, "wb", compresslevel=6) if gz else open(part, "wb", buffering=1 << 20)
    with opener as fh:
        for copy in range(copies):
            for r in range(1, repeat + 1):
                prefixes: dict[int, bytes] = {}
                chunk = []
                for offset, sentence in zip(offsets, sentences, strict=True):
                    prefix = prefixes.get(offset)
                    if prefix is None:
                        body = b"s:aishub%d,c:%d" % (r, T0 + copy * SPAN_S + offset)
                        prefix = b"\\%s*%02X\\" % (body, nmea_checksum(body))
                        prefixes[offset] = prefix
                    chunk.append(prefix + sentence)
                fh.write(b"\n".join(chunk) + b"\n")
    part.replace(out)


def open_lines(path: Path):
    """The file for reading bytes, gunzipped when it is gzip (by content)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def pandas_counts(path: Path) -> dict:
    """Sentences and type-5 two-part pairs counted on the raw text (independently of pyais)."""
    import pandas as pd

    with open_lines(path) as fh:
        lines = pd.Series(fh.read().decode("ascii", "replace").splitlines())
    pattern = (
        r"^\\s:(?P<station>[^,*]+),c:(?P<c>\d+)\*[0-9A-F]{2}\\!..VDM,"
        r"(?P<cnt>\d),(?P<num>\d),(?P<seq>[^,]*),(?P<chan>[^,]*),(?P<payload>[^,]*),"
    )
    fields = lines.str.extract(pattern)
    after = fields.shift(-1)
    # a pair: part 1 of 2 followed by part 2 of 2 of the same sequence id and channel
    pairs = (
        (fields["cnt"] == "2")
        & (fields["num"] == "1")
        & (after["cnt"] == "2")
        & (after["num"] == "2")
        & (after["seq"] == fields["seq"])
        & (after["chan"] == fields["chan"])
    )
    return {
        "sentences": int(len(lines)),
        "parsed": int(fields["c"].notna().sum()),
        "type5_pairs": int((pairs & fields["payload"].str.startswith("5")).sum()),
        "stations": sorted(fields["station"].dropna().unique().tolist()),
    }


def pyais_counts(path: Path) -> dict:
    """Tag blocks parsed by pyais (checksum, station, time) and its assembled messages."""
    from pyais.messages import TagBlock
    from pyais.stream import BinaryIOStream

    tags = valid = 0
    c_min = c_max = None
    stations: set[str] = set()
    with open_lines(path) as fh:
        for line in fh:
            # the tag block alone: a sentence pyais refuses (bad fill bits, ...) keeps its tag
            if not line.startswith(b"\\"):
                continue
            tag = TagBlock(line[1 : line.index(b"\\", 1)])
            tag.init()
            tags += 1
            valid += tag.is_valid
            stations.add(tag.source_station)
            c = int(tag.receiver_timestamp)
            c_min = c if c_min is None else min(c_min, c)
            c_max = c if c_max is None else max(c_max, c)
    messages = type5_pairs = failed = used = 0
    with open_lines(path) as fh:
        for msg in BinaryIOStream(fh):
            messages += 1
            used += msg.frag_cnt
            try:
                decoded = msg.decode()
            except Exception:  # noqa: BLE001 - counted, as the bench floor skips them
                failed += 1
                continue
            type5_pairs += decoded.msg_type == 5 and msg.frag_cnt == 2
    return {
        "tag_blocks": tags,
        "tag_valid": valid,
        "stations": sorted(stations),
        "c_min": c_min,
        "c_max": c_max,
        "messages": messages,
        "decode_failed": failed,
        "sentences_used": used,
        "type5_pairs": type5_pairs,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Corpus:
    path: Path
    sentences: int
    messages: int | None
    description: str
    scale: Path | None = None
    scale_factor: int = 0


def build_corpus(cache: Path, repeat: int, scale: int, gz: bool) -> Corpus:
    """Build (or reuse from ``cache``) and check the AISHub corpus and its --scale file."""
    shared = shared_data_dir()
    source = shared / SAMPLE if shared else None
    if source is None or not source.is_file():
        sys.exit(
            f"bench/ingest.py: AISHub sample not found ({source or '../shared/data/' + str(SAMPLE)}); "
            "set $TRACKER_SHARED_DATA to the shared data folder"
        )
    sentences = source_sentences(source)
    suffix = ".nmea.gz" if gz else ".nmea"
    path = cache / f"aishub-r{repeat}{suffix}"
    manifest_path = cache / f"aishub-r{repeat}{suffix}.json"
    want = {"version": CORPUS_VERSION, "source_sha256": file_sha256(source), "repeat": repeat}
    manifest = None
    if path.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if {k: manifest.get(k) for k in want} != want:
            manifest = None
    if manifest is None:
        started = time.perf_counter()
        write_corpus(path, sentences, repeat=repeat, gz=gz)
        src_tmp = cache / "aishub-source.nmea"
        src_tmp.write_bytes(b"\n".join(sentences) + b"\n")
        source_pyais = pyais_counts(src_tmp)
        src_tmp.unlink()
        manifest = {
            **want,
            "source_sentences": len(sentences),
            "source_messages": source_pyais["messages"],
            "source_type5_pairs": source_pyais["type5_pairs"],
            "pandas": pandas_counts(path),
            "pyais": pyais_counts(path),
            "build_s": round(time.perf_counter() - started, 1),
        }
        manifest_path.write_text(json.dumps(manifest, indent=1))
    problems = corpus_problems(manifest, repeat)
    pd_, py = manifest["pandas"], manifest["pyais"]
    first = datetime.fromtimestamp(py["c_min"], UTC)
    last = datetime.fromtimestamp(py["c_max"], UTC)
    description = (
        f"{path.name}: AISHub sample ({manifest['source_sentences']:,} sentences, "
        f"{manifest['source_messages']:,} pyais messages) x {repeat} stations "
        f"{py['stations'][0]}..{py['stations'][-1]} at the same times "
        f"{first:%Y-%m-%d %H:%M:%S}-{last:%H:%M:%S}Z = {pd_['sentences']:,} sentences, "
        f"{py['messages']:,} pyais messages ({pd_['sentences'] - py['sentences_used']:,} "
        f"sentences pyais skips as unreadable, {py['decode_failed']:,} messages fail .decode()), "
        f"{py['type5_pairs']:,} type-5 pairs (pandas {pd_['type5_pairs']:,}), "
        f"tag blocks {py['tag_valid']:,}/{py['tag_blocks']:,} checksum-valid; "
        f"{path.stat().st_size / 1e6:.1f} MB"
    )
    if problems:
        sys.exit("bench/ingest.py: corpus check failed: " + "; ".join(problems))
    corpus = Corpus(path, pd_["sentences"], py["messages"], description)
    if scale > 1:
        big = cache / f"aishub-r{repeat}-x{scale}{suffix}"
        big_manifest = cache / f"aishub-r{repeat}-x{scale}{suffix}.json"
        big_want = {**want, "scale": scale}
        if not (
            big.exists()
            and big_manifest.exists()
            and json.loads(big_manifest.read_text()) == big_want
        ):
            write_corpus(big, sentences, repeat=repeat, copies=scale, gz=gz)
            big_manifest.write_text(json.dumps(big_want))
        with open_lines(big) as fh:
            big_lines = sum(1 for _ in fh)
        if big_lines != scale * corpus.sentences:
            sys.exit(
                f"bench/ingest.py: {big.name} has {big_lines:,} lines, not {scale} x the corpus"
            )
        corpus.scale, corpus.scale_factor = big, scale
    return corpus


def corpus_problems(manifest: dict, repeat: int) -> list[str]:
    """What is wrong with a built corpus, by its counts (empty when it is as specified)."""
    pd_, py = manifest["pandas"], manifest["pyais"]
    n = manifest["source_sentences"] * repeat
    problems = []
    if pd_["sentences"] != n or pd_["parsed"] != n:
        problems.append(f"{pd_['sentences']:,} lines ({pd_['parsed']:,} parsed), expected {n:,}")
    if py["tag_blocks"] != n or py["tag_valid"] != n:
        problems.append(
            f"{py['tag_valid']:,} of {py['tag_blocks']:,} tag blocks valid, {n:,} lines"
        )
    pairs = manifest["source_type5_pairs"] * repeat
    if not py["type5_pairs"] == pd_["type5_pairs"] == pairs:
        problems.append(
            f"type-5 pairs: pyais {py['type5_pairs']:,}, pandas {pd_['type5_pairs']:,}, expected {pairs:,}"
        )
    if py["messages"] != manifest["source_messages"] * repeat:
        problems.append(f"{py['messages']:,} pyais messages, expected {repeat} x the source's")
    stations = [f"aishub{r}" for r in range(1, repeat + 1)]
    if sorted(stations) != py["stations"] or sorted(stations) != pd_["stations"]:
        problems.append(f"stations {py['stations']}, expected {stations}")
    if py["c_min"] != T0 or py["c_max"] >= T0 + SPAN_S:
        problems.append(f"times {py['c_min']}..{py['c_max']}, expected {T0}..{T0 + SPAN_S - 1}")
    return problems


def synthetic_corpus(cache: Path, messages: int) -> Corpus:
    """The earlier bench file: a fleet of fictitious ships (MMSI 999...) reporting every minute."""
    from tracker.sources.ais.synth import sail, track_to_nmea, write_nmea

    path = cache / f"fleet-{messages}.nmea"
    if not path.exists():
        lines: list[str] = []
        per_ship = 2000
        start = datetime(2025, 5, 1, tzinfo=UTC)
        ship = 0
        while len(lines) < messages:
            lon, lat = -30.0 + (ship % 50) * 0.5, 5.0 + (ship // 50) * 0.5
            track = sail(
                [(lon, lat), (lon + 3.0, lat + 1.0)],
                start=start,
                speed_kn=12.0,
                report_every=timedelta(minutes=1),
            ).head(min(per_ship, messages - len(lines)))
            lines += track_to_nmea(track, mmsi=999_100_000 + ship, station=f"bench{ship % 7}")
            ship += 1
        write_nmea(path, lines[:messages])
    with open_lines(path) as fh:
        count = sum(1 for _ in fh)
    return Corpus(
        path,
        count,
        None,
        f"{path.name}: synthetic fleet, {messages:,} type-1 reports of fictitious MMSIs "
        f"999100000+ every minute, tag-blocked, no repeats, no statics; "
        f"{path.stat().st_size / 1e6:.1f} MB",
    )


def given_file(path: Path) -> Corpus:
    with open_lines(path) as fh:
        count = sum(1 for _ in fh)
    return Corpus(path, count, None, f"{path}: {count:,} lines, {path.stat().st_size / 1e6:.1f} MB")


# --------------------------------------------------------------------------- child processes


def child_main(spec: dict) -> None:
    """One measurement in this (fresh) process; prints its result as one JSON line."""
    path = Path(spec["path"])
    result: dict = {}
    if spec["kind"] == "split":
        started = time.perf_counter()
        lines = 0
        with open_lines(path) as fh:
            for _ in fh:
                lines += 1
        result = {"seconds": time.perf_counter() - started, "lines": lines}
    elif spec["kind"] == "pyais":
        from pyais.stream import BinaryIOStream, FileReaderStream

        started = time.perf_counter()
        messages = failed = 0
        # FileReaderStream opens the file as it is; a gzip corpus goes through gzip.open
        gz = spec.get("gzip", False)
        with contextlib.ExitStack() as stack:
            stream = (
                BinaryIOStream(stack.enter_context(gzip.open(path, "rb")))
                if gz
                else FileReaderStream(str(path))
            )
            for msg in stream:
                messages += 1
                try:
                    msg.decode()
                except Exception:  # noqa: BLE001 - the floor skips what it cannot decode
                    failed += 1
        result = {
            "seconds": time.perf_counter() - started,
            "messages": messages,
            "failed": failed,
        }
    elif spec["kind"] == "ingest":
        from tracker.store import open_store
        from tracker.store.ingest import ingest_ais_file

        store = open_store(spec["url"])
        started = time.perf_counter()
        summary = ingest_ais_file(store, path, **spec.get("options", {}))
        result = {"seconds": time.perf_counter() - started, "summary": summary.as_dict()}
        store.dispose()
    result["hwm_kb"] = own_hwm_kb()
    print(json.dumps(result))


def own_hwm_kb() -> int:
    """This process's peak resident set (VmHWM), in kB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    for child in (task / "children").read_text().split():
                        found.append(int(child))
                        todo.append(int(child))
    return found


def _status_kb(pid: int, field: str, name: str = "status") -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return None


@dataclass
class ChildRun:
    result: dict
    peak_kb: int
    pss_kb: int
    workers: int


def run_child(spec: dict) -> ChildRun:
    """Run one measurement in a fresh interpreter; its peak RSS includes its worker processes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
            stdout=out,
            stderr=err,
            cwd=ROOT,
        )
        workers: dict[int, int] = {}
        pss = [0]
        done = threading.Event()

        def sample() -> None:
            tick = 0
            while not done.is_set():
                tick += 1
                tree = _descendants(proc.pid)
                for pid in tree:
                    hwm = _status_kb(pid, "VmHWM:")
                    if hwm is not None:
                        workers[pid] = max(workers.get(pid, 0), hwm)
                if tick % 5 == 1:  # every 100 ms: smaps_rollup walks the page tables
                    # proportional set size of the whole tree at this moment (shared pages split)
                    now = sum(
                        _status_kb(pid, "Pss:", "smaps_rollup") or 0 for pid in [proc.pid, *tree]
                    )
                    pss[0] = max(pss[0], now)
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(errors.strip().splitlines()[-12:])
        raise ChildFailed(f"{spec['kind']} exited with {proc.returncode}:\n{tail}")
    result = json.loads(text.strip().splitlines()[-1])
    own = max(result.pop("hwm_kb"), 0) or usage.ru_maxrss
    return ChildRun(result, own + sum(workers.values()), pss[0], len(workers))


class ChildFailed(RuntimeError):
    pass


# --------------------------------------------------------------------------- stores


def sqlite_size(db: Path) -> dict:
    """File bytes, stored rows and the dbstat breakdown (name, table, bytes) of a SQLite store."""
    total = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
        objects = [
            (name, owner.get(name, name), size)
            for name, size in conn.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            )
        ]
        positions = conn.execute("SELECT COUNT(*) FROM positions").fetchone()[0]
        statics = conn.execute("SELECT COUNT(*) FROM static_reports").fetchone()[0]
    finally:
        conn.close()
    return {"bytes": total, "positions": positions, "statics": statics, "objects": objects}


def pg_url_with_driver(url: str) -> tuple[str, str | None]:
    """``url`` with a PostgreSQL driver that is installed (psycopg, else psycopg2)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url, None
    driver = parsed.get_driver_name()
    module = {"psycopg": "psycopg", "psycopg2": "psycopg2"}.get(driver)
    if module is None:
        return url, None
    try:
        __import__(module)
    except ImportError:
        other = "psycopg2" if module == "psycopg" else "psycopg"
        try:
            __import__(other)
        except ImportError:
            return url, None
        swapped = parsed.set(drivername=f"postgresql+{other}")
        return (
            swapped.render_as_string(hide_password=False),
            f"driver {driver} not installed, using {other}",
        )
    return url, None


def pg_reset(url: str) -> str | None:
    """Drop and recreate the database of ``url``; the reason when the server cannot be used."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    name = parsed.database
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    except Exception as exc:  # noqa: BLE001 - any failure here means no usable server
        return str(exc).strip().splitlines()[0]
    finally:
        admin.dispose()
    return None


def pg_size(url: str) -> dict:
    """Bytes of the AIS tables (pg_total_relation_size) and the stored rows."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            # a partitioned table (positions by month) is the sum of its partitions
            rows = conn.execute(
                sa.text(
                    "SELECT c.relname, coalesce((SELECT sum(pg_total_relation_size(t.relid)) "
                    "FROM pg_partition_tree(c.oid) t), pg_total_relation_size(c.oid))::bigint FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
                    "AND NOT c.relispartition AND c.relname = ANY(:names) ORDER BY 2 DESC"
                ),
                {"names": [*AIS_TABLES, "position_keys"]},
            ).all()
            positions = conn.execute(sa.text("SELECT COUNT(*) FROM positions")).scalar_one()
            statics = conn.execute(sa.text("SELECT COUNT(*) FROM static_reports")).scalar_one()
            version = conn.execute(sa.text("SHOW server_version")).scalar_one().split()[0]
    finally:
        engine.dispose()
    objects = [(name, name, size) for name, size in rows]
    return {
        "bytes": sum(size for *_, size in objects),
        "positions": positions,
        "statics": statics,
        "objects": objects,
        "version": version,
    }


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    label: str
    runs: int
    seconds: float | None = None
    sentences: int = 0
    peak_kb: int = 0
    pss_kb: int = 0
    workers: int = 0
    size: dict | None = None
    summary: dict | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


def measure(label: str, runs: int, make_spec, after=None) -> Row:
    """Run ``make_spec(i)`` ``runs`` times in fresh processes; the median time, the highest peak."""
    times, peaks, psss, workers, last = [], [], [], 0, None
    size = None
    for i in range(runs):
        spec = make_spec(i)
        child = run_child(spec)
        times.append(child.result["seconds"])
        peaks.append(child.peak_kb)
        psss.append(child.pss_kb)
        workers = max(workers, child.workers)
        last = child.result
        if after is not None:
            size = after(i)
    row = Row(label, runs, statistics.median(times), peak_kb=max(peaks), workers=workers)
    row.pss_kb = max(psss)
    row.size, row.summary, row.extra = size, last.get("summary"), {**last, "times": times}
    return row


def ingest_options() -> tuple[set[str], str | None]:
    """Parameters of ``ingest_ais_file`` (fast, workers, ...) or why it cannot be imported."""
    try:
        from tracker.store.ingest import ingest_ais_file
    except Exception as exc:  # noqa: BLE001 - the ingest may be mid-rewrite; say why
        return set(), f"{type(exc).__name__}: {exc}"
    return set(inspect.signature(ingest_ais_file).parameters), None


def sqlite_row(label, runs, path, work: Path, options=None, sentences=0) -> Row:
    dbs = [work / f"bench-{label.replace(' ', '_').replace(',', '')}-{i}.db" for i in range(runs)]

    def spec(i):
        for p in dbs[i].parent.glob(dbs[i].name + "*"):
            p.unlink()
        return {
            "kind": "ingest",
            "url": f"sqlite:///{dbs[i]}",
            "path": str(path),
            "options": options or {},
        }

    def after(i):
        size = sqlite_size(dbs[i])
        for p in dbs[i].parent.glob(dbs[i].name + "*"):
            p.unlink()
        return size

    row = measure(label, runs, spec, after)
    row.sentences = sentences
    return row


def pg_row(label, runs, path, url, options=None, sentences=0) -> Row:
    def spec(i):
        reason = pg_reset(url)
        if reason:
            raise ChildFailed(f"PostgreSQL not usable: {reason}")
        return {"kind": "ingest", "url": url, "path": str(path), "options": options or {}}

    row = measure(label, runs, spec, lambda i: pg_size(url))
    row.sentences = sentences
    return row


# --------------------------------------------------------------------------- report


def say(text: str) -> None:
    """Print a long line wrapped for pasting (continuation lines indented)."""
    print(textwrap.fill(text, width=111, subsequent_indent="  ", break_on_hyphens=False))


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for dist in ("pyais", "numpy", "SQLAlchemy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
    return (
        f"machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, "
        + ", ".join(versions)
        + "; load average {:.2f} {:.2f} {:.2f} at start".format(*os.getloadavg())
    )


def git_line() -> str:
    try:
        head = subprocess.run(
            ["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "tracker"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "tracker: (git not available)"
    head = head if len(head) <= 90 else head[:87] + "..."
    return f"tracker: {head}" + (" [tracker/ has uncommitted changes]" if dirty else "")


def print_table(rows: list[Row], messages: int, pyais_s: float | None) -> None:
    header = (
        f"{'row':<30} {'runs':>4} {'time s':>7} {'sentences/s':>11} {'messages/s':>11} "
        f"{'x pyais':>7} {'B/position':>10} {'B/in msg':>8} {'RSS MB':>6} {'PSS MB':>6} {'procs':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.seconds is None:
            say(f"{row.label:<30} {row.note}")
            continue
        # a row on a longer file reports its own message count (copies x the corpus)
        scale = row.extra.get("scale", 1)
        msgs = messages * scale
        ratio = (pyais_s * scale / row.seconds) if pyais_s else None
        size = row.size
        per_pos = size["bytes"] / size["positions"] if size and size["positions"] else None
        per_msg = size["bytes"] / msgs if size else None
        digits = 2 if row.seconds >= 1 else 3
        print(
            f"{row.label:<30} {row.runs:>4} {row.seconds:>7.{digits}f} "
            f"{row.sentences / row.seconds:>11,.0f} {msgs / row.seconds:>11,.0f} "
            f"{(f'{ratio:.2f}' if ratio else '-'):>7} "
            f"{(f'{per_pos:,.0f}' if per_pos else '-'):>10} "
            f"{(f'{per_msg:,.0f}' if per_msg else '-'):>8} "
            f"{row.peak_kb / 1024:>6,.0f} {row.pss_kb / 1024:>6,.0f} {row.workers + 1:>5}"
        )
        if row.note:
            say(f"{'':<30}   {row.note}")


def print_breakdown(title: str, size: dict) -> None:
    positions = size["positions"] or 1
    print(
        f"{title}: {size['bytes']:,} bytes = {size['bytes'] / positions:,.1f} B/position "
        f"({size['positions']:,} positions, {size['statics']:,} static reports)"
    )
    counted = sum(s for *_, s in size["objects"])
    for name, table, nbytes in size["objects"]:
        if nbytes < 0.001 * counted:
            continue
        kind = "" if name == table else f" (index on {table})"
        print(
            f"  {name + kind:<58} {nbytes:>13,} B {nbytes / positions:>8.1f} B/pos "
            f"{100 * nbytes / counted:>5.1f} %"
        )
    rest = [s for *_, s in size["objects"] if s < 0.001 * counted]
    if rest:
        print(
            f"  {f'{len(rest)} other objects (< 0.1 % each)':<58} {sum(rest):>13,} B "
            f"{sum(rest) / positions:>8.1f} B/pos"
        )


def summary_line(row: Row) -> str:
    s = row.summary or {}
    keys = ("read", "positions", "statics", "duplicates", "quarantined", "invalid_mmsi")
    return ", ".join(f"{k} {s[k]:,}" for k in keys if k in s)


# --------------------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path, help="bench these NMEA files instead")
    parser.add_argument("--cache", type=Path, help="corpus folder, kept (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=5, help="stations hearing the sample")
    parser.add_argument(
        "--scale", type=int, default=10, help="K-times longer file for the memory check (0: none)"
    )
    parser.add_argument("--gzip", action="store_true", help="gzip the corpus files")
    parser.add_argument(
        "--repeats",
        type=int,
        help="runs per row, median time (default: 1 per ingest row, 3 per floor)",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="dropped and recreated per run")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL row")
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="the earlier file of N fictitious position reports instead of the AISHub corpus",
    )
    args = parser.parse_args()
    ingest_runs = args.repeats or 1
    floor_runs = args.repeats or 3

    with contextlib.ExitStack() as stack:
        if args.cache:
            cache = args.cache
            cache.mkdir(parents=True, exist_ok=True)
        else:
            cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ingest-")))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-stores-")))

        print(f"tracker ingest bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        say(git_line())
        say(machine_line())
        started = time.perf_counter()
        if args.files:
            corpora = [given_file(p) for p in args.files]
        elif args.synthetic:
            corpora = [synthetic_corpus(cache, args.synthetic)]
        else:
            corpora = [build_corpus(cache, args.repeat, args.scale, args.gzip)]
        print(f"corpus built/checked in {time.perf_counter() - started:.1f} s")

        params, import_error = ingest_options()
        pg_url, pg_note = pg_url_with_driver(args.pg_url)
        for corpus in corpora:
            bench_corpus(
                corpus, work, args, params, import_error, pg_url, pg_note, floor_runs, ingest_runs
            )
        if args.cache:
            print(f"corpus kept in {cache}")


def bench_corpus(
    corpus: Corpus, work, args, params, import_error, pg_url, pg_note, floor_runs, ingest_runs
) -> None:
    print()
    say(f"corpus: {corpus.description}")
    gz = corpus.path.name.endswith(".gz")
    rows: list[Row] = []
    split = measure(
        "line split (iterate lines)",
        floor_runs,
        lambda i: {"kind": "split", "path": str(corpus.path)},
    )
    split.sentences = split.extra["lines"]
    rows.append(split)
    pyais = measure(
        "bare pyais (stream + decode)",
        floor_runs,
        lambda i: {"kind": "pyais", "path": str(corpus.path), "gzip": gz},
    )
    pyais.sentences = corpus.sentences
    messages = pyais.extra["messages"]
    if pyais.extra["failed"]:
        pyais.note = f"{pyais.extra['failed']:,} messages raise in .decode() (skipped)"
    rows.append(pyais)

    def ingest_row(label: str, backend: str, options=None, path=None, scale=1) -> Row:
        if import_error:
            return Row(label, 0, note=f"n/a: ingest_ais_file does not import ({import_error})")
        path = path or corpus.path
        try:
            if backend == "sqlite":
                row = sqlite_row(label, ingest_runs, path, work, options, corpus.sentences * scale)
            else:
                row = pg_row(label, ingest_runs, path, pg_url, options, corpus.sentences * scale)
        except ChildFailed as exc:
            print(f"{label} failed:\n{exc}", file=sys.stderr)
            last = str(exc).strip().splitlines()[-1]
            return Row(label, 0, note=f"failed: {last[:300]}")
        row.extra["scale"] = scale
        return row

    sqlite = ingest_row("tracker -> SQLite", "sqlite")
    rows.append(sqlite)
    slow = None
    if "fast" in params:
        slow = ingest_row("tracker -> SQLite, fast=False", "sqlite", {"fast": False})
        rows.append(slow)
    else:
        rows.append(
            Row(
                "tracker -> SQLite, fast=False",
                0,
                note="n/a (ingest_ais_file takes no fast parameter)" if not import_error else "n/a",
            )
        )
    if "workers" in params:
        rows.append(ingest_row("tracker -> SQLite, workers=1", "sqlite", {"workers": 1}))
    pg = None
    if args.no_pg:
        rows.append(Row("tracker -> PostgreSQL", 0, note="skipped (--no-pg)"))
    elif import_error:
        rows.append(Row("tracker -> PostgreSQL", 0, note="n/a"))
    else:
        reason = pg_reset(pg_url)
        if reason:
            rows.append(
                Row("tracker -> PostgreSQL", 0, note=f"skipped: {pg_url} unreachable: {reason}")
            )
        else:
            pg = ingest_row("tracker -> PostgreSQL", "postgresql")
            rows.append(pg)
    big = None
    if corpus.scale and not import_error:
        big = ingest_row(
            f"tracker -> SQLite, {corpus.scale_factor}x file",
            "sqlite",
            path=corpus.scale,
            scale=corpus.scale_factor,
        )
        rows.append(big)

    say(
        f"units: sentences/s = input lines/s; messages/s = the {messages:,} messages bare pyais "
        "assembles from the file, per second, in every row (same work: x pyais = pyais time / "
        "row time = row speed / pyais speed, > 1 faster than pyais); B/position = store bytes / "
        "stored positions; B/in msg = store bytes / input messages (duplicates included); "
        f"runs = median of; input file {corpus.path.stat().st_size / messages:.0f} B/message; "
        "RSS = peak VmHWM of the process + each descendant, PSS = peak of the tree's summed "
        "proportional set size (100 ms samples), procs = process + descendants"
    )
    if pg_note and not args.no_pg:
        print(f"PostgreSQL: {pg_note}")
    print()
    print_table(rows, messages, pyais.seconds)
    print()
    for row in rows:
        if row.seconds is not None:
            times = ", ".join(f"{t:.3g}" for t in row.extra["times"])
            counts = f"; {summary_line(row)}" if row.summary else ""
            say(f"{row.label}: run times {times} s{counts}")
    if slow and slow.summary and sqlite.summary:
        same = slow.summary == sqlite.summary and (slow.size or {}).get("positions") == (
            sqlite.size or {}
        ).get("positions")
        print(f"fast path on/off: {'same' if same else 'DIFFERENT'} counts")
    if big and big.seconds and sqlite.seconds:
        ratio = big.peak_kb / sqlite.peak_kb
        say(
            f"memory flatness (tracker -> SQLite peak RSS): 1x {sqlite.peak_kb / 1024:,.0f} MB, "
            f"{corpus.scale_factor}x {big.peak_kb / 1024:,.0f} MB ({corpus.scale_factor * corpus.sentences:,} "
            f"sentences): ratio {ratio:.2f} (acceptance within 20 %: {'ok' if abs(ratio - 1) <= 0.2 else 'NOT MET'})"
        )
    print()
    shown = next((r for r in (sqlite, slow) if r is not None and r.size), None)
    if shown is not None:
        print_breakdown(
            f"SQLite store of '{shown.label}' (file; dbstat by table/index)", shown.size
        )
    if pg and pg.size:
        print_breakdown(
            f"PostgreSQL {pg.size['version']} store (pg_total_relation_size of the AIS tables)",
            pg.size,
        )
    print()
    checks = []
    if sqlite.seconds and pyais.seconds:
        r = pyais.seconds / sqlite.seconds
        checks.append(f"SQLite x pyais {r:.2f} (>= 3: {'ok' if r >= 3 else 'NOT MET'})")
    if pg and pg.seconds and pyais.seconds:
        r = pyais.seconds / pg.seconds
        checks.append(f"PostgreSQL x pyais {r:.2f} (>= 1: {'ok' if r >= 1 else 'NOT MET'})")
    if sqlite.size and sqlite.size["positions"]:
        b = sqlite.size["bytes"] / sqlite.size["positions"]
        checks.append(f"SQLite {b:,.0f} B/position (< 150: {'ok' if b < 150 else 'NOT MET'})")
    if checks:
        what = "acceptance" if corpus.messages else "issue 16 targets (set for the AISHub corpus)"
        say(f"{what}: " + "; ".join(checks))


if __name__ == "__main__":
    main()
