"""Load figures: N concurrent complete round trips against the embedded simulator, SQLite vs PostgreSQL.

    .venv/bin/python -m bench.load [--concurrency 50] [--trips 200] [--workers 4] [--seconds 120]

Each round trip is what a browser does: POST /diagnose/start → the simulator's SSO (test mode, a
scenario) → the ACS with the artifact (SOAP resolve, checks, store) → the result page → the verdict
JSON. Loopback only; bounded in count (``--trips``) and time (``--seconds``). A session is "lost"
when its verdict is not final after the run (still ``inconclusive`` or unknown). Prints round trips
per second, p50/p95 latency, errors, lost sessions and resident memory per worker process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import tomli_w

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Trip:
    """One round trip as the client saw it."""

    scenario: str
    reference: str | None = None
    verdict: str | None = None
    diagnosis: str | None = None
    seconds: float = 0.0
    error: str | None = None
    artifact: str | None = None
    acs_url: str | None = None
    # step -> pid of the worker that answered (only with INLOGHULP_WORKER_HEADER=1)
    workers: dict[str, str] = field(default_factory=dict)


def _location(response: httpx.Response, step: str) -> str:
    if response.status_code not in (302, 303, 307):
        raise RuntimeError(f"{step}: HTTP {response.status_code} instead of a redirect")
    return str(response.headers["location"])


def _absolute(base_url: str, location: str) -> str:
    return location if location.startswith("http") else f"{base_url}{location}"


def default_supplier() -> str:
    """The first eHerkenning supplier in the simulator's AD list."""
    from diagnostics.simulator.entities import SUPPLIERS

    return SUPPLIERS[0].entity_id


async def round_trip(
    client: httpx.AsyncClient,
    base_url: str,
    *,
    scenario: str = "success-loa3",
    broker: str = "simulator",
    supplier: str | None = None,
) -> Trip:
    """Walk one complete round trip; failures are recorded on the Trip, not raised."""
    trip = Trip(scenario=scenario)
    started = time.perf_counter()
    step = "start"
    form = {"broker": broker, "scenario": scenario, "supplier": supplier or default_supplier()}
    try:
        response = await client.post(f"{base_url}/diagnose/start", data=form)
        trip.workers["start"] = response.headers.get("x-worker", "")
        sso = _location(response, "start")
        step = "broker"
        response = await client.get(_absolute(base_url, sso))
        trip.workers["broker"] = response.headers.get("x-worker", "")
        acs = _location(response, "broker")
        trip.acs_url = _absolute(base_url, acs)
        trip.artifact = parse_qs(urlsplit(acs).query)["SAMLart"][0]
        step = "acs"
        response = await client.get(trip.acs_url)
        trip.workers["acs"] = response.headers.get("x-worker", "")
        result = _location(response, "acs")
        trip.reference = urlsplit(result).path.rstrip("/").rsplit("/", 1)[-1]
        step = "result"
        response = await client.get(_absolute(base_url, result))
        trip.workers["result"] = response.headers.get("x-worker", "")
        if response.status_code != 200 or trip.reference not in response.text:
            raise RuntimeError(f"result page: HTTP {response.status_code}")
        step = "verdict"
        verdict = await client.get(f"{base_url}/api/v1/diagnose/{trip.reference}")
        verdict.raise_for_status()
        body = verdict.json()
        trip.verdict = body["verdict"]
        trip.diagnosis = (body.get("diagnosis") or {}).get("id")
    except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
        trip.error = f"{step}: {type(exc).__name__}: {exc}"[:200]
    trip.seconds = time.perf_counter() - started
    return trip


async def final_verdict(client: httpx.AsyncClient, base_url: str, reference: str) -> str | None:
    """The verdict the service now holds for ``reference`` (None when the session is unknown)."""
    response = await client.get(f"{base_url}/api/v1/diagnose/{reference}")
    if response.status_code != 200:
        return None
    value: str = response.json()["verdict"]
    return value


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes below the server process (children, or grandchildren)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(parent, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    # uvicorn's multiprocessing also starts a resource tracker; workers are the ones serving.
    return sorted(pid for pid in found if b"resource_tracker" not in _cmdline(pid))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Figures:
    backend: str
    trips: int
    seconds: float
    latencies: list[float]
    errors: int
    lost: int
    rss: list[float]
    first_error: str | None

    @property
    def per_second(self) -> float:
        return self.trips / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def run_load(base_url: str, *, concurrency: int, trips: int, seconds: float) -> tuple[list[Trip], float]:
    """``trips`` round trips, ``concurrency`` at a time, stopping new ones after ``seconds``."""
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so that a request never
    # races the server closing the connection it was about to reuse.
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency, keepalive_expiry=2.0)
    results: list[Trip] = []
    deadline = time.monotonic() + seconds
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(trips):
        queue.put_nowait(number)
    # Generous: on a shared machine a slow answer is a figure for the latency column, not an error.
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                results.append(await round_trip(client, base_url))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return results, elapsed


async def count_lost(base_url: str, trips: list[Trip]) -> int:
    """Started sessions whose verdict is not final (or that vanished) after the run."""
    async with httpx.AsyncClient(timeout=60) as client:
        verdicts = await asyncio.gather(
            *(final_verdict(client, base_url, trip.reference) for trip in trips if trip.reference)
        )
    return sum(1 for verdict in verdicts if verdict not in ("ok", "failed"))


@contextmanager
def serve(database_url: str, workers: int, directory: Path) -> Iterator[Any]:
    """The app on ``workers`` processes with a generated SP key and a fresh configuration."""
    sys.path.insert(0, str(ROOT))
    from diagnostics import certs
    from tests.conftest import BASE_CONFIG, LiveServer, merge

    keys = directory / "keys"
    keys.mkdir(exist_ok=True)
    if not (keys / "sp-key.pem").exists():
        certs.write(certs.generate("Bench SP"), keys / "sp-key.pem", keys / "sp-cert.pem")
    config = merge(
        BASE_CONFIG,
        {
            "database_url": database_url,
            "site_dir": str(ROOT / "site"),
            "sp": {"key_file": str(keys / "sp-key.pem"), "cert_file": str(keys / "sp-cert.pem")},
            "simulator": {"key_dir": str(directory / "simulator")},
            # All bench clients share one address; the limiter stays in the path (its database
            # writes are part of the cost) but with a ceiling this run cannot reach.
            "rate_limits": {"roundtrip_start": 100_000},
        },
    )
    path = directory / "inloghulp.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")

    class BenchServer(LiveServer):
        def _wait(self) -> None:
            # Four workers on a busy two-core machine can take longer than the tests' 30 s to start.
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return
                except httpx.TransportError:
                    time.sleep(0.5)
            output = self.stop()
            raise RuntimeError(f"server did not start:\n{output[-2000:]}")

    server = BenchServer(path, workers=workers, env={"INLOGHULP_WORKER_HEADER": "1", "INLOGHULP_LOG_LEVEL": "WARNING"})
    try:
        yield server
    finally:
        server.stop()


def measure(backend: str, database_url: str, args: argparse.Namespace, directory: Path) -> Figures:
    with serve(database_url, args.workers, directory) as server:
        # Warm-up: metadata fetched and schema created on every worker before the clock starts.
        asyncio.run(run_load(server.url, concurrency=args.workers * 2, trips=args.workers * 4, seconds=30))
        trips, elapsed = asyncio.run(
            run_load(server.url, concurrency=args.concurrency, trips=args.trips, seconds=args.seconds)
        )
        lost = asyncio.run(count_lost(server.url, trips))
        rss = [rss_mib(pid) for pid in worker_pids(server.process.pid)]
    errors = [trip for trip in trips if trip.error or trip.verdict != "ok"]
    return Figures(
        backend=backend,
        trips=len(trips),
        seconds=elapsed,
        latencies=[trip.seconds for trip in trips if not trip.error],
        errors=len(errors),
        lost=lost,
        rss=rss,
        first_error=(errors[0].error or f"verdict {errors[0].verdict} {errors[0].diagnosis}") if errors else None,
    )


def table(figures: list[Figures], args: argparse.Namespace) -> str:
    rows = [
        ("round trips", lambda f: f"{f.trips}"),
        ("round trips/s", lambda f: f"{f.per_second:.1f}"),
        ("p50 latency (ms)", lambda f: f"{f.percentile(0.5) * 1000:.0f}"),
        ("p95 latency (ms)", lambda f: f"{f.percentile(0.95) * 1000:.0f}"),
        ("errors", lambda f: f"{f.errors}"),
        ("lost sessions", lambda f: f"{f.lost}"),
        ("RSS per worker (MiB)", lambda f: " / ".join(f"{value:.0f}" for value in f.rss) or "?"),
        ("mean RSS (MiB)", lambda f: f"{statistics.fmean(f.rss):.0f}" if f.rss else "?"),
    ]
    width = max(len(name) for name, _ in rows)
    heading = f"{'':{width}}  " + "  ".join(f"{f.backend:>22}" for f in figures)
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"{args.concurrency} concurrent, {args.workers} workers, up to {args.trips} round trips / {args.seconds:g} s; "
        f"{os.cpu_count()} CPUs, load average at the end {load}",
        heading,
    ]
    lines += [f"{name:{width}}  " + "  ".join(f"{cell(f):>22}" for f in figures) for name, cell in rows]
    for f in figures:
        if f.first_error:
            lines.append(f"{f.backend}: first error: {f.first_error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--trips", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.pg import PostgresCluster

    figures = []
    with tempfile.TemporaryDirectory(prefix="inloghulp-bench-") as tmp:
        directory = Path(tmp)
        if args.backend in ("sqlite", "both"):
            (directory / "sqlite").mkdir()
            url = f"sqlite:///{directory / 'sqlite' / 'bench.sqlite3'}"
            figures.append(measure("SQLite (WAL)", url, args, directory / "sqlite"))
        if args.backend in ("postgresql", "both"):
            cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="inloghulp-bench-pg-"))).start()
            try:
                (directory / "pg").mkdir()
                figures.append(measure("PostgreSQL", cluster.url, args, directory / "pg"))
            finally:
                cluster.stop()
    print(table(figures, args))
    bad = [f for f in figures if f.errors or f.lost]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
