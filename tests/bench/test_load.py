"""`python -m bench.load` runs end to end and prints its figures; its crypto floor counts what a trip really does.

Timings are printed by the benchmark, never asserted here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.helpers.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_bench_load_runs_and_prints_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--idle-trips", "2", "--trips", "4", "--concurrency", "2"]
        + ["--workers", "1", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for step in ("POST /diagnose/start", "GET /simulator/sso", "GET /saml/acs (+ ARS)", "result page"):
        assert any(re.match(rf"{re.escape(step)} +\d+\.\d +\d+\.\d$", line) for line in lines), result.stdout
    assert any(line.startswith("sum: start → result page") for line in lines), result.stdout
    assert any(re.search(r"crypto floor per round trip \d+\.\d\d ms CPU; server CPU / floor", line) for line in lines)
    for row in ("round trips/s", "p50 latency (ms)", "p95 latency (ms)", "server CPU per trip (ms)"):
        assert any(re.match(rf"{re.escape(row)} +\d+\.?\d*$", line) for line in lines), (row, result.stdout)
    assert any(re.match(r"server CPU / floor +\d+\.\dx$", line) for line in lines), result.stdout
    assert any(re.match(r"errors +0$", line) for line in lines), result.stdout
    assert any(re.match(r"lost sessions +0$", line) for line in lines), result.stdout
    # The load generator's own CPU beside the server's, and how the two shared the machine.
    assert any(re.match(r"load generator CPU per trip \(ms\) +\d+\.\d$", line) for line in lines), result.stdout
    assert any(re.match(r"CPUs used: server / load gen\. +\d+% / \d+%$", line) for line in lines), result.stdout
    assert "SQLite (WAL): warm-up: 1 of 1 workers answered, each step at least 2x; all warm" in lines, result.stdout


# Burns 0.3 s of CPU; the probe runs that as a child, says so once the child has finished, and stays alive.
BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
PROBE = f"import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', {BURN!r}])\nprint('done', flush=True)\ntime.sleep(30)\n"


def test_tree_cpu_seconds_counts_finished_children() -> None:
    from bench.load import descendants, tree_cpu_seconds

    with subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True) as probe:
        try:
            assert probe.stdout is not None and probe.stdout.readline() == "done\n"
            assert descendants(probe.pid) == []
            # The child is gone: its 0.3 s are in the probe's cutime.
            assert tree_cpu_seconds(probe.pid) >= 0.3
        finally:
            probe.kill()


@pytest.fixture
def in_process_server(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app served by uvicorn in a thread of this process, so its crypto calls can be counted here."""
    from diagnostics.app import create_app
    from diagnostics.settings import load_settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("INLOGHULP_PUBLIC_BASE_URL", url)
    monkeypatch.setenv("INLOGHULP_WORKER_HEADER", "1")  # as bench.load.serve sets it
    app = create_app(load_settings(write_config({"public_base_url": url})))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the in-process server did not start"
    yield url
    server.should_exit = True
    thread.join(10)


def count_calls(monkeypatch: pytest.MonkeyPatch, counts: Counter[str]) -> None:
    """Count the signatures, verifications, encryptions and decryptions the server makes."""
    from diagnostics import crypto
    from diagnostics.saml import authn
    from diagnostics.simulator import requests

    def counted(module: Any, name: str, label: Callable[..., str]) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[label(*args)] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counted(crypto, "sign", lambda element, *_: "sign " + str(element.tag).rsplit("}", 1)[-1])
    counted(crypto, "verify", lambda *_: "verify")
    counted(crypto, "encrypt_id", lambda *_: "encrypt")
    counted(crypto, "decrypt_id", lambda *_: "decrypt")
    counted(authn, "signed_redirect_query", lambda *_: "sign AuthnRequest")
    counted(requests, "verify_redirect_query", lambda *_: "verify")


@pytest.mark.anyio
async def test_the_floor_has_the_crypto_of_a_real_round_trip(
    in_process_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bench import floor
    from bench.load import round_trip

    counts: Counter[str] = Counter()

    async with httpx.AsyncClient(timeout=60) as client:
        warm = await round_trip(client, in_process_server)  # metadata and first-use caches
        assert warm.error is None and warm.verdict == "ok", warm
        count_calls(monkeypatch, counts)
        trip = await round_trip(client, in_process_server)
        assert trip.error is None and trip.verdict == "ok", trip

    # Signing metadata is set-up work, not something a round trip needs: not in the floor.
    needed = Counter({name: count for name, count in counts.items() if name != "sign EntityDescriptor"})
    assert needed == Counter(
        {"sign AuthnRequest": 1, "sign Assertion": 3, "sign ArtifactResponse": 1, "sign ArtifactResolve": 1}
        | {"verify": 4, "encrypt": 2, "decrypt": 2}
    ), counts

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kinds: Counter[str] = Counter()
    for operation in floor.round_trip(sp=key, broker=key, mr=key, supplier=key):
        kinds[operation.kind] += operation.count
    assert kinds == Counter(
        {
            "sign": sum(count for name, count in needed.items() if name.startswith("sign")),
            "verify": needed["verify"],
            "oaep-encrypt": needed["encrypt"],
            "aes-encrypt": needed["encrypt"],
            "oaep-decrypt": needed["decrypt"],
            "aes-decrypt": needed["decrypt"],
        }
    )


@asynccontextmanager
async def browser(kind: str) -> AsyncIterator[Any]:
    """The client ``kind`` as the round-trip walk takes it: a bare httpx client, or the load's aiohttp one."""
    from bench.load import AiohttpBrowser, aiohttp_session

    if kind == "httpx":
        async with httpx.AsyncClient(timeout=60) as client:
            yield client
    else:
        async with aiohttp_session(timeout=60) as session:
            yield AiohttpBrowser(session)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["httpx", "aiohttp"])
async def test_one_walk_serves_both_clients(in_process_server: str, kind: str) -> None:
    from bench.load import STEPS, round_trip

    async with browser(kind) as client:
        # aiohttp passes only because it sends the SSO URL unchanged (the simulator checks a signature
        # over the raw query) and keeps the cookies of an IP host (the ACS checks the browser's cookie).
        trips = [await round_trip(client, in_process_server, scenario=name) for name in ("success-loa3", "loa-too-low")]
    assert [(trip.error, trip.verdict) for trip in trips] == [(None, "ok"), (None, "failed")], trips
    assert trips[1].diagnosis is not None
    for trip in trips:
        assert trip.artifact and trip.reference and trip.acs_url
        assert list(trip.steps) == list(STEPS)
        assert trip.workers == dict.fromkeys(STEPS, str(os.getpid()))


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "error"), [("httpx", "ConnectError"), ("aiohttp", "ClientConnectorError")])
async def test_a_client_error_is_recorded_on_the_trip(kind: str, error: str) -> None:
    from bench.load import round_trip

    async with browser(kind) as client:
        trip = await round_trip(client, f"http://127.0.0.1:{free_port()}")  # nobody listens
    assert trip.error is not None and trip.error.startswith(f"start: {error}: "), trip.error
    assert trip.reference is None and trip.steps == {}


@pytest.mark.anyio
async def test_warm_up_waits_for_every_worker_and_gives_up_in_bounds(
    in_process_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import load

    warm = await load.warm_up(in_process_server, 1)
    assert warm == {str(os.getpid()): load.WARM_TRIPS_PER_WORKER}
    assert load.warm_line(warm, 1).endswith("; all warm")

    # A second worker that never answers: the warm-up stops after its bound and says so.
    monkeypatch.setattr(load, "WARM_ATTEMPTS_PER_WORKER", 3)
    warm = await load.warm_up(in_process_server, 2)
    assert warm == {str(os.getpid()): 6}
    assert load.warm_line(warm, 2).startswith("warm-up: 1 of 2 workers answered")
    assert "1 NOT warm" in load.warm_line(warm, 2)
