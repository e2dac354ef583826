"""Interop (a): a dienst on Lasso, with its own key and entity id, logs in at our simulator by HTTP-Artifact.

The simulator runs for real on a loopback port and trusts the dienst through ``trusted_sp_metadata``.
Lasso (``lasso_sp.py``) signs the AuthnRequest, follows the redirect, resolves the artifact over SOAP,
checks every signature and decrypts both EncryptedIDs. A second dienst that is not in the list gets
``sim-unknown-sp``, for its AuthnRequest and for its ArtifactResolve.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from diagnostics.simulator import entities
from tests.helpers.simulated import start
from tests.interop.lasso_process import HERE
from tests.simulator.foreign import ForeignSp, foreign_sp

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
LOA = "urn:etoegang:core:assurance-class:"
TRUSTED = foreign_sp(9002, acs_url="https://lasso-dienst.example/saml/acs")
STRANGER = foreign_sp(9006, acs_url="https://onbekende-dienst.example/saml/acs")
CASES: list[dict[str, Any]] = [
    {"name": "success", "sp": "trusted", "scenario": "success-loa2plus"},
    {"name": "cancelled", "sp": "trusted", "scenario": "cancelled"},
    {"name": "bad-signature", "sp": "trusted", "scenario": "bad-signature"},
    {"name": "untrusted-key", "sp": "trusted", "scenario": "untrusted-key"},
    {"name": "held", "sp": "trusted", "scenario": "success-loa3", "resolve": False},
    {"name": "stranger-resolves-held", "sp": "stranger", "artifact_of": "held"},
    {"name": "owner-resolves-held", "sp": "trusted", "artifact_of": "held"},
    {"name": "stranger-login", "sp": "stranger", "scenario": "success-loa2plus"},
]


def _sp_files(sp: ForeignSp, directory: Path) -> dict[str, str]:
    key, cert = directory / f"{sp.service_index}-key.pem", directory / f"{sp.service_index}-cert.pem"
    key.write_bytes(sp.pair.key_pem)
    cert.write_bytes(sp.pair.cert_pem)
    return {"metadata_file": str(sp.write_metadata(directory)), "key_file": str(key), "cert_file": str(cert)}


@pytest.fixture(scope="module")
def lasso_run(
    tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path], lasso_python: str
) -> dict[str, Any]:
    """Every case, in order, by one Lasso process against one running simulator."""
    tmp = tmp_path_factory.mktemp("interop-sp")
    trusted, stranger = _sp_files(TRUSTED, tmp), _sp_files(STRANGER, tmp)
    sim = start(tmp, sp_keypair, {"simulator": {"trusted_sp_metadata": [trusted["metadata_file"]]}})
    key_dir = sim.settings.simulator.key_dir
    config = {
        "simulator": sim.server.url,
        # Pinned in advance, as a dienst pins its broker's certificate: taken from the simulator's key dir.
        "broker_cert_file": str(key_dir / "broker-cert.pem"),
        "mr_cert_file": str(key_dir / "mr-cert.pem"),
        "mr_entity_id": entities.MR_ENTITY_ID,
        "sps": {"trusted": trusted, "stranger": stranger},
        "cases": CASES,
    }
    (tmp / "lasso-sp.json").write_text(json.dumps(config))
    try:
        run = subprocess.run(
            [lasso_python, str(HERE / "lasso_sp.py"), str(tmp / "lasso-sp.json")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        log = sim.server.stop()
    assert run.returncode == 0, f"{run.stderr[-3000:]}\n--- simulator ---\n{log[-2000:]}"
    results: dict[str, Any] = json.loads(run.stdout)
    return results


def test_lasso_sp_completes_sso_with_the_artifact_binding(lasso_run: dict[str, Any]) -> None:
    start_, resolved = lasso_run["success"]["start"], lasso_run["success"]["resolve"]
    assert start_["http_status"] == 303
    assert start_["acs"] == TRUSTED.acs_url  # its own artifact ACS from its metadata
    assert "lasso_error" not in resolved, resolved
    assert resolved["accepted"] is True
    assert resolved["status"] == [STATUS + "Success"]
    assert resolved["in_response_to"] == start_["request_id"]
    assert resolved["destination"] == TRUSTED.acs_url
    assert resolved["audience"] == TRUSTED.entity_id
    assert resolved["loa"] == LOA + "loa2plus"


def test_lasso_verifies_every_signature(lasso_run: dict[str, Any]) -> None:
    signatures = lasso_run["success"]["resolve"]["signatures"]
    assert signatures == {"ArtifactResponse": "ok", "Assertion": "ok", "Advice AD": "ok", "Advice MR": "ok"}


def test_lasso_decrypts_both_encrypted_ids_with_the_diensts_own_key(lasso_run: dict[str, Any]) -> None:
    attributes = lasso_run["success"]["resolve"]["attributes"]
    assert attributes["urn:etoegang:core:ServiceID"] == TRUSTED.service_id
    legal = attributes["urn:etoegang:core:LegalSubjectID"]
    acting = attributes["urn:etoegang:core:ActingSubjectID"]
    assert legal["encrypted"] and acting["encrypted"]
    assert legal["qualifier"] == "urn:etoegang:1.9:EntityConcernedID:KvKnr"
    assert legal["value"] == entities.DEFAULT_KVK
    assert acting["qualifier"] == "urn:etoegang:1.9:EntityConcernedID:Pseudo"
    # The pseudonym is specific to this dienst: the same person gets another one at another dienst.
    assert re.fullmatch(r"[0-9a-f]{64}", acting["value"])
    assert acting["value"] == entities.pseudonym(entities.DEFAULT_PERSON, entities.DEFAULT_KVK, TRUSTED.entity_id)


@pytest.mark.parametrize("case", ["bad-signature", "untrusted-key"])
def test_lasso_refuses_what_the_broker_did_not_sign(lasso_run: dict[str, Any], case: str) -> None:
    resolved = lasso_run[case]["resolve"]
    assert "accepted" not in resolved
    assert "Signature" in resolved["lasso_error"], resolved  # e.g. DsSignatureVerificationFailedError


def test_lasso_reads_the_cancel_status(lasso_run: dict[str, Any]) -> None:
    resolved = lasso_run["cancelled"]["resolve"]
    assert resolved["status"] == [STATUS + "Responder", STATUS + "AuthnFailed"]
    assert "accepted" not in resolved


def test_an_sp_that_is_not_trusted_gets_sim_unknown_sp(lasso_run: dict[str, Any]) -> None:
    login = lasso_run["stranger-login"]["start"]
    assert (login["http_status"], login["error_id"]) == (400, "sim-unknown-sp")
    resolve = lasso_run["stranger-resolves-held"]["resolve"]
    assert resolve["http_status"] == 500
    assert resolve["fault"].startswith("sim-unknown-sp:")
    # Refused before the artifact was looked up: the dienst it belongs to still resolves it.
    owner = lasso_run["owner-resolves-held"]["resolve"]
    assert owner["accepted"] is True and owner["loa"] == LOA + "loa3"
