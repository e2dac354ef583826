"""How fast is one login answer checked? Our in-process checker vs pysaml2's default, and the physical floor.

One run, one simulator response (signed ArtifactResponse with a signed, eHerkenning-shaped assertion and
two EncryptedIDs), three measurements:

* ours: ``checks.run`` on the ArtifactResponse (2 signatures verified, 2 EncryptedIDs decrypted, all checks);
* pysaml2 7.x with its default crypto backend (the ``xmlsec1`` binary as a subprocess) on the inner
  Response, as an SP built on pysaml2 would do it (it verifies the assertion signature; it does not decrypt
  an EncryptedID inside an AttributeValue, so it does less work than we do);
* the floor: only the RSA operations our check needs (2 RSA-SHA256 verifies + 2 RSA-OAEP decrypts) with
  ``cryptography`` on the same keys, loaded once.

Prints per-response times (median and best of the runs) and the ratios. Not a test: nothing asserts times.
Run with ``make bench`` or ``python -m bench.acs [--runs N]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import tempfile
import time
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from diagnostics import certs, checks
from diagnostics.saml.authn import new_id
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator import entities, responses
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import broker_metadata

ROOT = Path(__file__).resolve().parent.parent
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def make_settings(workdir: Path) -> Settings:
    """The shipped example configuration with keys and state in ``workdir``."""
    data = tomllib.loads((ROOT / "config" / "inloghulp.toml").read_text(encoding="utf-8"))
    key_file, cert_file = workdir / "sp-key.pem", workdir / "sp-cert.pem"
    certs.write(certs.generate("Bench SP", serial_number=data["service"]["provider_oin"]), key_file, cert_file)
    data["database_url"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    data["sp"].update({"key_file": str(key_file), "cert_file": str(cert_file)})
    data["simulator"]["key_dir"] = str(workdir / "simulator")
    path = workdir / "inloghulp.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_settings(path)


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples per call, and CPU time per call including child processes (xmlsec1)."""

    wall: list[float]
    cpu: float


def _cpu_seconds() -> float:
    # Children's CPU counts too: pysaml2's work happens in the xmlsec1 processes it waits for.
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(function: Callable[[], object], runs: int) -> Timing:
    """Milliseconds per call; keys and caches are warmed first, as in a running server."""
    function()
    samples = []
    cpu_start = _cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(samples, (_cpu_seconds() - cpu_start) * 1000 / runs)


def pysaml2_client(settings: Settings, workdir: Path, xmlsec_binary: str) -> Any:
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    metadata = workdir / "broker-metadata.xml"
    metadata.write_bytes(broker_metadata(settings))
    config = SPConfig()
    config.load(
        {
            "entityid": settings.sp.entity_id,
            "xmlsec_binary": xmlsec_binary,
            "key_file": str(settings.sp.key_file),
            "cert_file": str(settings.sp.cert_file),
            "encryption_keypairs": [{"key_file": str(settings.sp.key_file), "cert_file": str(settings.sp.cert_file)}],
            "metadata": {"local": [str(metadata)]},
            "accepted_time_diff": settings.allowed_clock_skew_seconds,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(settings.acs_url, BINDING_HTTP_POST)]},
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                }
            },
        }
    )
    return Saml2Client(config=config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=200, help="runs for our checker and the floor")
    parser.add_argument("--pysaml2-runs", type=int, default=20, help="runs for pysaml2 (each spawns xmlsec1)")
    args = parser.parse_args()
    xmlsec_binary = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
    warnings.simplefilter("ignore", DeprecationWarning)  # pysaml2 still calls datetime.utcnow()

    with tempfile.TemporaryDirectory(prefix="bench-acs-") as directory:
        workdir = Path(directory)
        settings = make_settings(workdir)
        keys = keys_for(settings.simulator.key_dir)
        request_id = new_id()
        message = responses.issue(settings, "success-loa2plus", request_id=request_id)
        inner = etree.fromstring(message).find(f"{{{SAMLP}}}Response")
        assert inner is not None
        response_b64 = base64.b64encode(etree.tostring(inner)).decode("ascii")
        encrypted_ids = sum(
            1 for _ in etree.fromstring(message).iter("{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedID")
        )

        # Ours: the same call the ACS makes, keys and certificates loaded once.
        context = checks.context_from_settings(
            settings, [keys.broker.cert], entities.BROKER_ENTITY_ID, expected_request_id=request_id
        )
        verdict = checks.run(message, context)
        if verdict.verdict != "ok":
            raise SystemExit(f"our checker did not accept the response: {verdict.model_dump_json()}")
        signature_check = next(check for check in verdict.checks if check.id == "signature")
        signatures = sum(1 for key in signature_check.data if key.endswith("_certificate_sha256"))
        ours = timed(lambda: checks.run(message, context), args.runs)

        # pysaml2 with its default backend (xmlsec1 subprocesses).
        from saml2 import BINDING_HTTP_POST

        client = pysaml2_client(settings, workdir, xmlsec_binary)

        def pysaml2_once() -> None:
            result = client.parse_authn_request_response(response_b64, BINDING_HTTP_POST, outstanding={request_id: "/"})
            # pysaml2 can hand back a response without an assertion when checks fail: make sure it accepted one.
            if result is None or result.assertion is None:
                raise SystemExit("pysaml2 did not accept the assertion; the comparison would be meaningless")

        theirs = timed(pysaml2_once, args.pysaml2_runs)

        # The floor: the bare RSA operations our check performs, on the same keys.
        sp_key = serialization.load_pem_private_key(settings.sp.key_file.read_bytes(), password=None)
        broker_key = serialization.load_pem_private_key(keys.broker.key_pem, password=None)
        assert isinstance(sp_key, rsa.RSAPrivateKey) and isinstance(broker_key, rsa.RSAPrivateKey)
        public = broker_key.public_key()
        signed_info = b"<ds:SignedInfo>" + b"x" * 600 + b"</ds:SignedInfo>"
        signature = broker_key.sign(signed_info, padding.PKCS1v15(), hashes.SHA256())
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        wrapped = sp_key.public_key().encrypt(b"k" * 32, oaep)

        def floor_once() -> None:
            for _ in range(signatures):
                public.verify(signature, signed_info, padding.PKCS1v15(), hashes.SHA256())
            for _ in range(encrypted_ids):
                sp_key.decrypt(wrapped, oaep)

        floor = timed(floor_once, args.runs)

    rows = [("ours (checks.run, in process)", ours), ("pysaml2 default (xmlsec1 subprocess)", theirs), ("floor", floor)]
    print(f"Response: {len(message)} bytes, {signatures} signatures checked, {encrypted_ids} EncryptedIDs decrypted")
    print(f"{'':40} {'median ms':>10} {'best ms':>10} {'CPU ms':>10} {'runs':>6}")
    for name, timing in rows:
        wall = timing.wall
        print(f"{name:40} {statistics.median(wall):10.3f} {min(wall):10.3f} {timing.cpu:10.3f} {len(wall):6d}")
    figures: list[tuple[str, Callable[[Timing], float]]] = [
        ("median", lambda t: statistics.median(t.wall)),
        ("best", lambda t: min(t.wall)),
        ("CPU", lambda t: t.cpu),
    ]
    for label, pick in figures:
        speedup = pick(theirs) / pick(ours)
        to_floor = pick(ours) / pick(floor)
        print(
            f"{label:>6}: pysaml2 / ours {speedup:7.1f}x (target >= 50x: {'met' if speedup >= 50 else 'MISSED'}),"
            f" ours / floor {to_floor:5.2f}x (target <= 2x: {'met' if to_floor <= 2 else 'MISSED'})"
        )
    print(
        "On a busy machine the medians include time spent waiting for a CPU; best-of-runs and CPU time"
        " (which includes the xmlsec1 child processes) are the fairer figures."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
