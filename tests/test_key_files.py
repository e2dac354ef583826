"""certs.KeyFiles.loaded_if_unchanged: the parsed SP key without a thread, and never a stale one."""

from __future__ import annotations

import os
from pathlib import Path

from diagnostics import certs


def test_the_parsed_key_without_parsing_until_a_file_changes(tmp_path: Path) -> None:
    key_file, cert_file = tmp_path / "sp-key.pem", tmp_path / "sp-cert.pem"
    certs.write(certs.generate("Current SP"), key_file, cert_file)
    files = certs.KeyFiles(key_file, cert_file)
    assert files.loaded_if_unchanged() is None  # nothing parsed yet: current() must, in a thread
    first = files.current()
    assert files.loaded_if_unchanged() is first
    # Rollover: new files at the same paths (another size or time); the kept key no longer counts.
    certs.write(certs.generate("Next SP"), key_file, cert_file)
    os.utime(cert_file, ns=(1, 1))
    assert files.loaded_if_unchanged() is None
    second = files.current()
    assert second is not first and files.loaded_if_unchanged() is second


def test_no_answer_while_another_thread_parses(tmp_path: Path) -> None:
    key_file, cert_file = tmp_path / "sp-key.pem", tmp_path / "sp-cert.pem"
    certs.write(certs.generate("Current SP"), key_file, cert_file)
    files = certs.KeyFiles(key_file, cert_file)
    files.current()
    with files._lock:  # current() in another thread, halfway through a new parse
        assert files.loaded_if_unchanged() is None
