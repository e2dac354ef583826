"""``inloghulp serve`` as a real process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.helpers.config import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# A bounded wait for the first /healthz answer. Every worker imports the app and runs its migrations check
# on its own; on a busy 2-core machine four workers took about 55 s to start.
START_SECONDS = 30
START_SECONDS_PER_WORKER = 15


class LiveServer:
    """``inloghulp serve`` in its own process on a free loopback port."""

    def __init__(self, config: Path, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "INLOGHULP_PUBLIC_BASE_URL": self.url, **(env or {})}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "diagnostics",
                "serve",
                "--config",
                str(config),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # Read the server's output all the time: a pipe nobody reads fills up (64 KiB, a few hundred request
        # log lines), and then the server blocks on its next log line and stops answering.
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait(START_SECONDS + START_SECONDS_PER_WORKER * workers)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            self.lines.append(line.decode(errors="replace"))

    def output(self) -> str:
        return "".join(self.lines)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /healthz within {seconds:.0f} s")

    def stop(self) -> str:
        """Stop the server; everything it printed."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.output()
