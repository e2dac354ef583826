"""Our own SP as the simulator trusts it: read once per settings, read again after a certificate rollover."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from diagnostics import certs
from diagnostics.settings import load_settings
from diagnostics.simulator.sp import own_sp
from tests.helpers.config import config_file


def _pair(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}-key.pem", directory / f"{name}-cert.pem"
    certs.write(certs.generate(f"Test SP {name}", serial_number="00000009999999999000"), key, cert)
    return key, cert


def test_a_rolled_certificate_file_is_read_again(tmp_path: Path) -> None:
    key, cert = _pair(tmp_path, "sp")
    settings = load_settings(config_file(tmp_path, key, cert))
    before = own_sp(settings)
    assert own_sp(settings) is before  # the same settings and files: the metadata is not built again

    new_key, new_cert = _pair(tmp_path, "new")
    cert.write_bytes(new_cert.read_bytes())
    key.write_bytes(new_key.read_bytes())

    after = own_sp(settings)
    assert after.encryption_cert_pem != before.encryption_cert_pem
    assert x509.load_pem_x509_certificate(after.encryption_cert_pem) == x509.load_pem_x509_certificate(
        new_cert.read_bytes()
    )


def test_other_settings_get_their_own_sp(tmp_path: Path) -> None:
    key, cert = _pair(tmp_path, "sp")
    settings = load_settings(config_file(tmp_path, key, cert))
    other = settings.model_copy(update={"public_base_url": "http://127.0.0.1:9999"})

    assert own_sp(settings).acs_urls != own_sp(other).acs_urls
    assert all(url.startswith("http://127.0.0.1:9999/") for url in own_sp(other).acs_urls)
