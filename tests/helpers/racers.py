"""Processes that start at the same moment: workers meeting a database together (schema, migrations, claims)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def race(target: Callable[..., None], args: tuple[Any, ...], count: int) -> list[Any]:
    """Run ``target(*args, barrier, results)`` in ``count`` forked processes that wait for each other at the
    barrier; what each put on ``results``, in the order they finished. Every process must exit with 0."""
    context = multiprocessing.get_context("fork")  # no re-import per process: fast, and Linux-only is fine
    barrier = context.Barrier(count)
    results: Any = context.Queue()
    racers = [context.Process(target=target, args=(*args, barrier, results)) for _ in range(count)]
    for process in racers:
        process.start()
    collected = [results.get(timeout=60) for _ in racers]
    for process in racers:
        process.join(60)
        assert process.exitcode == 0
    return collected
