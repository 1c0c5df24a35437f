"""Live AIS feeds: the same records as file ingest, from sockets, websockets and growing files.

A feed URL names the transport:

- ``tcp://host:port``: NMEA lines from a TCP server (tracker connects);
- ``tcp-listen://:port`` (or ``tcp-listen://host:port``): NMEA lines from any TCP client that
  connects to tracker;
- ``udp://:port`` (or ``udp://host:port``): NMEA lines in UDP datagrams;
- ``ws://...`` / ``wss://...``: aisstream.io-style JSON messages over a websocket. The
  subscription message carries the API key from ``$AISSTREAM_API_KEY`` and the query
  parameters ``bbox=lat1,lon1,lat2,lon2`` (repeatable; default the whole world) and
  ``mmsi=123456789,...`` (removed from the URL before connecting);
- ``file:///path``: a growing NMEA file, followed like ``tail -F`` (read from its start, then
  as it grows; a rotated or truncated file is read to its end and the new one opened).

Each feed yields :class:`~tracker.sources.ais.records.AISMessage` and
:class:`~tracker.core.records.BadRecord` items exactly as the file readers do (NMEA decoded by
:func:`~tracker.sources.ais.nmea.iter_nmea_lines`, JSON by the aisstream reader), with
``path`` = the feed's label (URL and session) and ``line`` = the message's sequence number in
the session (one counter across reconnections; multi-part messages may span one).

**Reception time.** A message that carries no time of its own (no tag block, ``$PGHP``,
trailing or leading time; no ``time_utc``) gets the UTC time tracker received it. That is a
real time, seconds from the transmission, so it is *not* flagged ``ts_assumed`` (which means a
time the user supplied for a whole file); instead the message's ``source`` names it:
``rx-time`` or ``<station> rx-time``. A message that has its own time keeps it.

**Reconnection.** A transport that fails or is closed by its peer is retried with exponential
backoff (1 s doubling to :data:`MAX_BACKOFF`); what was received before the drop is already
queued and is never lost. :attr:`Feed.status` says ``up``, ``down`` (with the last error and
since when), ``listening`` or ``stopped``, so a feed that stays down is reported by the caller.
Nothing here touches the database.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.ais.exports import _aisstream, _rows_to_messages
from tracker.sources.ais.nmea import iter_nmea_lines
from tracker.sources.ais.records import AISMessage

__all__ = [
    "API_KEY_ENV",
    "MAX_BACKOFF",
    "RX_TIME",
    "Feed",
    "FeedStatus",
    "new_session",
    "open_feed",
]

#: Environment variable holding the aisstream.io API key.
API_KEY_ENV = "AISSTREAM_API_KEY"
#: Longest wait between two reconnection attempts (seconds).
MAX_BACKOFF = 30.0
#: Marker in ``source`` of a message whose time is tracker's reception time.
RX_TIME = "rx-time"
_FIRST_BACKOFF = 1.0
_POLL = 0.2
_WORLD = [[[-90.0, -180.0], [90.0, 180.0]]]
_SCHEMES = ("tcp", "tcp-listen", "udp", "ws", "wss", "file")
_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z ", re.MULTILINE)

Item = AISMessage | BadRecord


def new_session() -> str:
    """A session id: UTC start time and process id (``20261127T093000Z-1234``)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"


@dataclass
class FeedStatus:
    """What a feed is doing: ``starting``, ``up``, ``listening``, ``down`` or ``stopped``."""

    state: str = "starting"
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    error: str | None = None
    received: int = 0
    connections: int = 0

    def set(self, state: str, error: str | None = None) -> None:
        """Change state (``since`` moves only when the state changes)."""
        if state != self.state:
            self.since = datetime.now(UTC)
        self.state, self.error = state, error

    def __str__(self) -> str:
        text = self.state
        if self.state == "down":
            down_s = (datetime.now(UTC) - self.since).total_seconds()
            text += f" {down_s:.0f}s ({self.error})"
        return text


def _bbox(text: str) -> list[list[float]]:
    try:
        lat1, lon1, lat2, lon2 = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"bbox {text!r}: expected lat1,lon1,lat2,lon2 in degrees") from None
    if not (
        -90 <= lat1 <= 90 and -90 <= lat2 <= 90 and -180 <= lon1 <= 180 and -180 <= lon2 <= 180
    ):
        raise InputError(f"bbox {text!r}: latitudes within ±90, longitudes within ±180")
    return [[lat1, lon1], [lat2, lon2]]


class Feed:
    """One live feed. :meth:`start` runs it in background threads that put ``(feed, item)``
    pairs on a queue; :meth:`stop` ends it, flushing incomplete multi-part messages as bad
    records. :meth:`items` runs it in the foreground (tests, small scripts)."""

    def __init__(
        self,
        url: str,
        *,
        session: str | None = None,
        bboxes: list[list[list[float]]] | None = None,
        mmsi: list[int] | None = None,
        api_key_env: str = API_KEY_ENV,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        parts = urlsplit(url)
        self.kind = parts.scheme.lower()
        if self.kind not in _SCHEMES:
            raise InputError(
                f"feed {url!r}: expected tcp://host:port, tcp-listen://:port, udp://:port, "
                "ws(s)://... or file:///path"
            )
        query = parse_qs(parts.query)
        self.bboxes = list(bboxes or []) + [_bbox(b) for b in query.pop("bbox", [])]
        self.mmsi = list(mmsi or [])
        for text in query.pop("mmsi", []):
            try:
                self.mmsi += [int(v) for v in text.split(",") if v.strip()]
            except ValueError:
                raise InputError(f"feed {url!r}: mmsi= takes 9-digit numbers") from None
        self.url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        self.session = session or new_session()
        self.label = f"{self.url} session {self.session}"
        self.status = FeedStatus()
        self.api_key_env = api_key_env
        self.max_backoff = max_backoff
        self.bound_port: int | None = None  # for listeners and UDP: the port actually bound
        self._host, self._port = parts.hostname or "", parts.port
        self._path = parts.path
        if self.kind in ("tcp", "tcp-listen", "udp") and self._port is None:
            raise InputError(f"feed {url!r}: give a port (tcp://host:PORT)")
        if self.kind == "tcp" and not self._host:
            raise InputError(f"feed {url!r}: give a host (tcp://HOST:port)")
        if self.kind == "file" and not self._path:
            raise InputError(f"feed {url!r}: give a path (file:///path/to/log.nmea)")
        self._stop = threading.Event()
        self._raw: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._bound = threading.Event()

    # -- running ---------------------------------------------------------------------------

    def start(self, out: queue.Queue) -> None:
        """Run the feed in background threads, putting ``(self, item)`` on ``out``."""
        transport = threading.Thread(target=self._transport, name=f"feed {self.url}", daemon=True)
        decoder = threading.Thread(
            target=lambda: self._decode(lambda item: out.put((self, item))),
            name=f"decode {self.url}",
            daemon=True,
        )
        self._threads = [transport, decoder]
        transport.start()
        decoder.start()
        if self.kind in ("tcp-listen", "udp"):
            self._bound.wait(5)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving; everything received is decoded and queued before this returns."""
        self._stop.set()
        if self._threads:
            self._threads[0].join(timeout)
            self._raw.put(None)
            self._threads[1].join(timeout)
        self.status.set("stopped", self.status.error)  # the last error stays readable

    def items(self, *, until: Callable[[], bool]) -> Iterator[Item]:
        """Run in the foreground and yield items until ``until()`` is true (checked often)."""
        out: queue.Queue = queue.Queue()
        self.start(out)
        try:
            while True:
                try:
                    yield out.get(timeout=_POLL)[1]
                except queue.Empty:
                    if until():
                        break
        finally:
            self.stop()
            while not out.empty():
                yield out.get()[1]

    # -- transports: put (reception time, bytes) on self._raw --------------------------------

    def _put(self, data: bytes) -> None:
        self.status.received += 1
        self._raw.put((datetime.now(UTC), data))

    def _transport(self) -> None:
        run = {
            "tcp": self._tcp_client,
            "tcp-listen": self._tcp_listener,
            "udp": self._udp,
            "ws": self._websocket,
            "wss": self._websocket,
            "file": self._file,
        }[self.kind]
        backoff = _FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                if run():  # True: had a working connection, so start the backoff afresh
                    backoff = _FIRST_BACKOFF
                if self._stop.is_set():
                    break
                self.status.set("down", "closed by peer")
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - any transport failure: retry later
                self.status.set("down", " ".join(str(exc).split()) or type(exc).__name__)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _read_lines(self, sock: socket.socket) -> None:
        sock.settimeout(_POLL)
        buffer = b""
        try:
            while not self._stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._put(line)
        finally:
            if buffer.strip():
                self._put(buffer)  # a last line without its end: decoded (or quarantined) too
            sock.close()

    def _tcp_client(self) -> bool:
        sock = socket.create_connection((self._host, self._port), timeout=5)
        self.status.connections += 1
        self.status.set("up")
        self._read_lines(sock)
        return True

    def _tcp_listener(self) -> bool:
        server = socket.create_server((self._host, self._port), reuse_port=False)
        server.settimeout(_POLL)
        self.bound_port = server.getsockname()[1]
        self._bound.set()
        self.status.set("listening")
        clients: list[threading.Thread] = []
        try:
            while not self._stop.is_set():
                try:
                    conn, _addr = server.accept()
                except TimeoutError:
                    continue
                self.status.connections += 1
                self.status.set("up")
                thread = threading.Thread(target=self._read_lines, args=(conn,), daemon=True)
                thread.start()
                clients.append(thread)
        finally:
            server.close()
            for thread in clients:
                thread.join(5)
        return True

    def _udp(self) -> bool:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self._host, self._port))
            sock.settimeout(_POLL)
            self.bound_port = sock.getsockname()[1]
            self._bound.set()
            self.status.set("listening")
            while not self._stop.is_set():
                try:
                    datagram = sock.recv(65536)
                except TimeoutError:
                    continue
                self.status.set("up")
                for line in datagram.split(b"\n"):
                    if line.strip():
                        self._put(line)
        finally:
            sock.close()
        return True

    def subscription(self) -> dict:
        """The aisstream.io subscription message this feed sends."""
        key = os.environ.get(self.api_key_env, "")
        if not key and self.kind == "wss":
            raise InputError(f"{self.url}: set ${self.api_key_env} to your aisstream.io API key")
        message: dict = {"APIKey": key, "BoundingBoxes": self.bboxes or _WORLD}
        if self.mmsi:
            message["FiltersShipMMSI"] = [str(m) for m in self.mmsi]
        return message

    def _websocket(self) -> bool:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        subscription = json.dumps(self.subscription())
        with connect(self.url, open_timeout=10, close_timeout=2) as ws:
            ws.send(subscription)
            self.status.connections += 1
            self.status.set("up")
            while not self._stop.is_set():
                try:
                    message = ws.recv(timeout=_POLL)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    break
                self._put(message.encode("utf-8") if isinstance(message, str) else message)
        return True

    def _file(self) -> bool:
        path = self._path
        fh = open(path, "rb")
        try:
            self.status.connections += 1
            self.status.set("up")
            buffer = b""
            inode = os.fstat(fh.fileno()).st_ino
            while not self._stop.is_set():
                chunk = fh.read(65536)
                if chunk:
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        self._put(line)
                    continue
                try:
                    now = os.stat(path)
                except FileNotFoundError:
                    now = None  # rotated away, new one not there yet: keep waiting
                if now is not None and (now.st_ino != inode or now.st_size < fh.tell()):
                    # rotated (a new file at the path) or truncated: the old one is read to
                    # its end above; open the new one from its start
                    if buffer.strip():
                        self._put(buffer)
                    buffer = b""
                    fh.close()
                    fh = open(path, "rb")
                    inode = os.fstat(fh.fileno()).st_ino
                    continue
                self._stop.wait(_POLL)
            if buffer.strip():
                self._put(buffer)
        finally:
            fh.close()
        return True

    # -- decoding ----------------------------------------------------------------------------

    def _numbered(self, received: dict[int, datetime]) -> Iterator[tuple[int, bytes]]:
        number = 0
        while True:
            got = self._raw.get()
            if got is None:
                return
            ts, data = got
            number += 1
            data = data.rstrip(b"\r\n")
            if not data.lstrip()[:1].isdigit():  # no leading time of its own: give reception time
                received[number] = ts
                data = f"{ts:%Y-%m-%dT%H:%M:%S.%fZ} ".encode("ascii") + data
            yield number, data

    def _decode(self, emit: Callable[[Item], None]) -> None:
        if self.kind in ("ws", "wss"):
            self._decode_json(emit)
            return
        received: dict[int, datetime] = {}
        for item in iter_nmea_lines(self._numbered(received), path=self.label):
            if isinstance(item, BadRecord):
                emit(replace(item, raw=_PREFIX.sub("", item.raw)))
                received.pop(item.line, None)
                continue
            lines = range(item.line, item.line_end + 1)
            if any(received.get(n) == item.ts for n in lines):
                item.source = f"{item.source} {RX_TIME}" if item.source else RX_TIME
            item.raw = _PREFIX.sub("", item.raw)
            for n in lines:
                received.pop(n, None)
            emit(item)
            if len(received) > 10_000:  # lines that made no message (comments, other NMEA)
                for n in sorted(received)[:5000]:
                    received.pop(n)

    def _decode_json(self, emit: Callable[[Item], None]) -> None:
        number = 0
        while True:
            got = self._raw.get()
            if got is None:
                return
            ts, data = got
            number += 1
            text = data.decode("utf-8", "replace").strip()
            try:
                obj = json.loads(text)
                row = obj if isinstance(obj, dict) else {"__error__": "expected a JSON object"}
            except json.JSONDecodeError as exc:
                row = {"__error__": f"not a JSON object (unreadable at column {exc.colno})"}
            if isinstance(row, dict) and "error" in row and "MessageType" not in row:
                self.status.set("down", f"server says: {str(row['error'])[:200]}")
            for item in _rows_to_messages(
                iter([(number, row, text)]),
                _aisstream,
                path=self.label,
                assume_time=ts,
                identity=None,
            ):
                if isinstance(item, AISMessage) and item.ts_assumed:
                    item.ts_assumed = False
                    item.source = f"{item.source} {RX_TIME}" if item.source else RX_TIME
                emit(item)


def open_feed(url: str, **options) -> Feed:
    """A :class:`Feed` for ``url`` (options: ``session``, ``bboxes``, ``mmsi``,
    ``api_key_env``, ``max_backoff``); raises ``InputError`` for a URL it cannot follow."""
    return Feed(url, **options)
