"""What the faults run against: real servers (``inloghulp serve`` in its own process), brokers that misbehave
on loopback sockets, a SQLite file another connection locks, a PostgreSQL cluster that restarts.

Everything stays on this machine (127.0.0.1) and every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from lxml import etree

from diagnostics import certs
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator import ars, responses
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import ad_list, broker_metadata
from tests.helpers.config import config_file
from tests.helpers.live_server import LiveServer

# Nothing in a fault may wait longer than this for an answer that should come.
PATIENCE_SECONDS = 60.0


@dataclass
class Outcome:
    """What a fault did: ``got`` is the row's measured column, ``note`` why it failed."""

    passed: bool
    got: str
    note: str = ""


class Server:
    """A real server; its output is read all the time (a full pipe would stall it) and kept for a failure note."""

    def __init__(self, config: Path, workers: int, env: dict[str, str]) -> None:
        self.live = LiveServer(config, workers=workers, env=env)
        self.url = self.live.url

    @property
    def lines(self) -> list[str]:
        """What the server printed so far (LiveServer reads it all the time), for a failed row's note."""
        return [line.rstrip() for line in self.live.lines]

    def stop(self) -> None:
        self.live.stop()


@dataclass
class World:
    """A directory with SP keys; each fault writes its own configuration and starts its own servers."""

    directory: Path
    key_file: Path
    cert_file: Path
    servers: list[Server] = field(default_factory=list)
    count: int = 0

    @classmethod
    def make(cls, directory: Path) -> World:
        key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
        certs.write(certs.generate("Chaos SP", serial_number="00000009999999999000"), key_file, cert_file)
        return cls(directory, key_file, cert_file)

    def config(self, overrides: dict[str, Any] | None = None) -> Path:
        """A configuration of its own (database, simulator keys) in a fresh subdirectory."""
        self.count += 1
        place = self.directory / f"fault-{self.count}"
        place.mkdir()
        path = config_file(place, self.key_file, self.cert_file, overrides)
        keys_for(load_settings(path).simulator.key_dir)  # made here, before any server reads them
        return path

    def serve(self, config: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> Server:
        quiet = {"INLOGHULP_LOG_LEVEL": "WARNING", "INLOGHULP_WORKER_HEADER": "1", **(env or {})}
        server = Server(config, workers, quiet)
        self.servers.append(server)
        return server

    def settings_of(self, config: Path, server: Server) -> Settings:
        """The settings as the server sees them (its address comes from the environment)."""
        return load_settings(config).model_copy(update={"public_base_url": server.url})

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()


# ── brokers that misbehave ──


class HangingBroker:
    """A loopback socket that accepts every connection and never answers a byte."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(200)
        self._socket.settimeout(0.2)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                connection, _ = self._socket.accept()
                self.accepted.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self._socket.close()


class FakeBroker:
    """The simulator's metadata and AD list, served from another port with its ARS there too; ``delay``
    slows every answer down, ``ars_status`` 500 makes the ARS fail, ``answers`` holds the SOAP body per call."""

    def __init__(self, *, delay: float = 0.0, ars_status: int = 200) -> None:
        self.delay = delay
        self.ars_status = ars_status
        self.answer: bytes = b""
        self.calls: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # quiet: the fault's row says what matters
                pass

            def _reply(self, status: int, body: bytes) -> None:
                time.sleep(fake.delay)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.calls.append(self.path)
                if fake.settings is not None and self.path.startswith("/simulator/metadata"):
                    self._reply(200, broker_metadata(fake.settings))
                elif fake.settings is not None and self.path.startswith("/simulator/listAD.xml"):
                    self._reply(200, ad_list(fake.settings))
                else:
                    self._reply(404, b"")

            def do_POST(self) -> None:
                fake.calls.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._reply(fake.ars_status, fake.answer if fake.ars_status == 200 else b"")

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self.settings: Settings | None = None
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def use(self, server_settings: Settings) -> None:
        """Serve the simulator's documents of ``server_settings`` (its keys, same entity id) with this address."""
        self.settings = server_settings.model_copy(update={"public_base_url": self.url})

    def config(self, broker_id: str = "nep") -> dict[str, Any]:
        return {
            "id": broker_id,
            "name": "Nepmakelaar",
            "metadata_url": f"{self.url}/simulator/metadata",
            "ad_list_url": f"{self.url}/simulator/listAD.xml",
            "soap_content_type": "text/xml",
        }

    def answer_with(self, server_settings: Settings, scenario: str, request_id: str) -> None:
        """The next ArtifactResolve gets the simulator's answer for ``scenario`` to AuthnRequest ``request_id``."""
        self.answer = ars.envelope(responses.issue(server_settings, scenario, request_id=request_id))

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


# ── a login through a broker we control ──


@dataclass(frozen=True)
class Started:
    reference: str
    request_id: str


def start(client: httpx.Client, broker: str, supplier: str) -> Started:
    """POST /diagnose/start; the reference and the AuthnRequest ID from the redirect to the broker."""
    response = client.post("/diagnose/start", data={"broker": broker, "supplier": supplier})
    if response.status_code != 303:
        raise RuntimeError(f"start: HTTP {response.status_code}")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    reference = query["RelayState"][0].rsplit("/", 1)[-1]
    request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
    return Started(reference, str(request.get("ID")))


# ── a SQLite file held by another connection ──


def sqlite_path(config: Path) -> Path:
    return Path(load_settings(config).database_url.removeprefix("sqlite:///"))


def timed_get(url: str, timeout: float) -> tuple[httpx.Response | None, float]:
    """(response or None when it did not come within ``timeout``, seconds taken)."""
    started = time.monotonic()
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.TimeoutException:
        return None, time.monotonic() - started
    return response, time.monotonic() - started


def wait_until_ready(url: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return True
        time.sleep(0.2)
    return False
