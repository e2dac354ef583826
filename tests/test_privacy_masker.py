"""One masker at the boundary: identifiers a broker puts in free text never reach a surface unmasked.

A StatusMessage (and a SOAP fault, an Issuer) carrying a KvK number, an RSIN, a BSN, a pseudonym, an
e-mail address or a name next to them goes through a real round trip in process; then the database row,
the log records, the public result page, the verdict API, the servicedesk console and ``inloghulp
explain`` are searched for the unmasked value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select
from typer.testing import CliRunner

from diagnostics import checks, privacy
from diagnostics.app import create_app
from diagnostics.cli import app as cli
from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings
from diagnostics.simulator import ars, entities, responses
from diagnostics.simulator.artifacts import new_artifact
from diagnostics.simulator.keys import keys_for
from diagnostics.store import SessionRow, Store
from diagnostics.verdict import CheckResult
from tests.helpers.brokers import simulator_handler
from tests.helpers.console import PASSWORD, USER, login
from tests.helpers.messages import resign

SAML, SAMLP, DS = checks.SAML, checks.SAMLP, checks.DS
PSEUDONYM = hashlib.sha256(b"a pseudonym for the masker test").hexdigest()

# (kind, the text in the StatusMessage, the values that must never appear, what the masked text shows)
CASES: list[tuple[str, str, list[str], str]] = [
    ("kvk", "Geen machtiging voor KvK 90000012.", ["90000012"], "******12"),
    ("kvk-in-a-urn", "urn:etoegang:1.9:EntityConcernedID:KvKnr:90000012 niet bekend", ["90000012"], "******12"),
    ("rsin", "RSIN 001234567 heeft geen machtiging", ["001234567"], "*******67"),
    ("bsn", "Persoon met BSN 123456782 geweigerd", ["123456782"], "*******82"),
    ("bsn-in-groups", "Geweigerd: 123.456.782 (11-proef)", ["123.456.782", "123456782"], "*******82"),
    ("pseudonym", f"Onbekend pseudoniem {PSEUDONYM}", [PSEUDONYM], f"{PSEUDONYM[:4]}…{PSEUDONYM[-4:]}"),
    ("e-mail", "Melding gestuurd naar jan.devries@gemeente.nl", ["jan.devries"], "j***@gemeente.nl"),
    ("name", "Jan de Vries (KvK 90000012) annuleerde niet", ["Jan de Vries", "Vries", "90000012"], "J. d. V."),
]


@dataclass
class Broker:
    """The broker's answer to the next ArtifactResolve: whatever the test puts here."""

    message: bytes = b""
    fault: str | None = None


def with_status_message(text: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        status = root.find(f"{{{SAMLP}}}Response/{{{SAMLP}}}Status")
        assert status is not None
        for old in status.findall(f"{{{SAMLP}}}StatusMessage"):
            status.remove(old)
        etree.SubElement(status, f"{{{SAMLP}}}StatusMessage").text = text

    return mutate


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture
def client(settings: Settings, broker: Broker, store: Store, cheap_argon2: None) -> Iterator[TestClient]:
    """The app in process; the simulator's documents, and an ARS that answers with ``broker``'s message."""
    documents = simulator_handler(settings)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/simulator/ars":
            body = ars.fault("Server", broker.fault) if broker.fault else ars.envelope(broker.message)
            return httpx.Response(500 if broker.fault else 200, content=body, headers={"Content-Type": "text/xml"})
        return documents(request)

    accounts.create_user(store.engine, USER, PASSWORD)
    app = create_app(settings, broker_transport=httpx.MockTransport(handler))
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as test_client:
        yield test_client


def round_trip(client: TestClient, settings: Settings, broker: Broker, mutate: Callable[[etree._Element], None]) -> str:
    """Start a test in this browser, let the broker answer with a changed auth-failed response; the reference."""
    started = client.post("/diagnose/start", data={"broker": "simulator", "supplier": entities.SUPPLIERS[0].entity_id})
    assert started.status_code == 303, started.text[:500]
    store = Store(settings.database_url)
    (session,) = store.recent_sessions(1)
    assert session.request_id is not None
    broker.message = resign(
        responses.issue(settings, "auth-failed", request_id=session.request_id),
        keys_for(settings.simulator.key_dir),
        mutate,
    )
    artifact, _ = new_artifact()
    back = client.get("/saml/acs", params={"SAMLart": artifact, "RelayState": f"/diagnose/{session.reference}"})
    assert back.status_code == 303, back.text[:500]
    store.close()
    return session.reference


def surfaces(
    client: TestClient, settings: Settings, reference: str, caplog: pytest.LogCaptureFixture
) -> dict[str, str]:
    """Every place the verdict is stored, logged or shown, as text."""
    store = Store(settings.database_url)
    with store.engine.connect() as connection:
        row = connection.execute(select(SessionRow.__table__).where(SessionRow.reference == reference)).mappings().one()
    store.close()
    found = {
        "database": json.dumps(dict(row), default=str, ensure_ascii=False),
        "logs": "\n".join(record.getMessage() for record in caplog.records),
        "result page": client.get(f"/diagnose/{reference}").text,
        "api": client.get(f"/api/v1/diagnose/{reference}").text,
    }
    login(client)
    found["console"] = client.get(f"/servicedesk/referentie/{reference}").text
    return found


@pytest.mark.parametrize(("kind", "text", "secrets", "masked"), CASES, ids=[case[0] for case in CASES])
def test_identifiers_in_a_status_message_reach_no_surface_unmasked(
    client: TestClient,
    settings: Settings,
    broker: Broker,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    text: str,
    secrets: list[str],
    masked: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    reference = round_trip(client, settings, broker, with_status_message(text))
    found = surfaces(client, settings, reference, caplog)
    for surface, content in found.items():
        for secret in secrets:
            assert secret not in content, f"{kind}: {secret!r} unmasked in the {surface}"
    # The message did arrive: its masked form is stored, and shown to the browser that started the test
    # and to the servicedesk (the JSON escapes non-ASCII, so look for it decoded there).
    assert masked in found["database"]
    assert masked in json.dumps(client.get(f"/api/v1/diagnose/{reference}").json(), ensure_ascii=False)
    assert masked in found["console"].replace("&#34;", '"')


@pytest.mark.parametrize(("kind", "text", "secrets", "masked"), CASES, ids=[case[0] for case in CASES])
def test_explain_prints_the_same_masked_text(
    settings: Settings,
    write_config: Callable[..., Path],
    tmp_path: Path,
    kind: str,
    text: str,
    secrets: list[str],
    masked: str,
) -> None:
    message = resign(
        responses.issue(settings, "auth-failed", request_id="_m"),
        keys_for(settings.simulator.key_dir),
        with_status_message(text),
    )
    path = tmp_path / "answer.xml"
    path.write_bytes(message)
    for flags in ([], ["--json"]):
        result = CliRunner().invoke(cli, ["explain", str(path), "--config", str(write_config()), *flags])
        assert result.exit_code == 1, result.output
        for secret in secrets:
            assert secret not in result.stdout, f"{kind}: {secret!r} unmasked in explain {flags}"
        shown = json.dumps(json.loads(result.stdout), ensure_ascii=False) if flags else result.stdout
        assert masked in shown


def test_a_soap_fault_and_an_issuer_are_masked_too(
    client: TestClient, settings: Settings, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    # A broker's SOAP fault is shown as the resolve step's detail.
    broker.fault = f"Artefact van KvK 90000012 ({PSEUDONYM}) onbekend"
    started = client.post("/diagnose/start", data={"broker": "simulator", "supplier": entities.SUPPLIERS[0].entity_id})
    assert started.status_code == 303
    store = Store(settings.database_url)
    (session,) = store.recent_sessions(1)
    store.close()
    artifact, _ = new_artifact()
    client.get("/saml/acs", params={"SAMLart": artifact, "RelayState": f"/diagnose/{session.reference}"})
    for surface, content in surfaces(client, settings, session.reference, caplog).items():
        assert "90000012" not in content and PSEUDONYM not in content, surface
    # An Issuer is kept in the trace's data: masked like any other value.
    result = CheckResult(id="issuer", status="fail", detail="x", data={"issuer_assertion": "mail jan@example.nl"})
    assert result.data == {"issuer_assertion": "mail j***@example.nl"}


def test_the_masker_leaves_protocol_values_readable() -> None:
    for value in (
        "urn:etoegang:DV:00000009999999999000:entities:9001",
        "9f1c6a52-3b7e-4d0a-9c55-000000009001",
        "2026-11-29T05:07:39+00:00",
        "http://127.0.0.1:8000/saml/acs",
        "BHP-7K3Q-9D2F",
        "_request0123456789",
        "De makelaar meldt status Responder / AuthnFailed.",
    ):
        assert privacy.mask_text(value) == value


def test_the_masker_is_idempotent_and_keeps_names_without_identifiers() -> None:
    once = privacy.mask_text(" ".join(case[1] for case in CASES))
    assert privacy.mask_text(once) == once
    # A name alone is not an identifier: "Voorbeeld Leverancier" in a detail stays readable.
    assert privacy.mask_text("Gekozen: Voorbeeld Leverancier A") == "Gekozen: Voorbeeld Leverancier A"
    assert privacy.mask_text("naam: Fatima") == "naam: F."


def test_the_11_proef_decides_for_grouped_numbers() -> None:
    assert privacy.elfproef("123456782") and not privacy.elfproef("123456789")
    assert privacy.mask_text("nummer 123.456.782") == "nummer *******82"
    assert privacy.mask_text("versie 123.456.789") == "versie 123.456.789"


def test_log_lines_pass_the_masker(capsys: pytest.CaptureFixture[str]) -> None:
    from diagnostics.logs import JsonFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "gebruiker %s", ("Jan de Vries, BSN 123456782",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "gebruiker J. d. V., BSN *******82"


def test_the_masker_remembers_only_its_own_output_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy, "_MASKED_BEFORE", {})
    raw = "Geweigerd voor Jan de Vries, BSN 123456782, jan.devries@example.nl"
    masked = privacy.mask_text(raw)
    assert masked == "Geweigerd voor J. d. V., BSN *******82, j***@example.nl"
    # Only the masked text is kept for the next pass; the raw text, with its identifiers, is not.
    assert list(privacy._MASKED_BEFORE) == [masked]
    assert privacy.mask_text(masked) == masked
    monkeypatch.setattr(privacy, "MASKED_BEFORE_MAX", 3)
    for n in range(10):
        privacy.mask_text(f"KvK 1234567{n}")
    assert len(privacy._MASKED_BEFORE) <= 3
    assert all("1234567" not in text for text in privacy._MASKED_BEFORE)


# Texts built from the pieces the masker looks for (and Unicode that case folding treats specially: "ſ" matches
# "s" and the Kelvin sign "k" under IGNORECASE), glued with the characters its patterns look around.
_PIECES = (
    *("KvK", "kvk", "KVKNR:", "RSIN", "BSN", "Vestigingsnr", "naam:", "Naam", "name=", "gebruiker", "USER", "persoon"),
    *("Jan", "de", "Vries", "van", "der", "Ümit", "Çelik", "O'Neil", "Anne-Marie", "ſ", "rſin", "\u212avk", "é"),
    *("123456782", "12345678", "1234567", "123456789012", "1234567890123", "123 456 782", "123.456.782", "٣٤٥٦٧٨٩٠١"),
    *("00000009999999999000", "_6fa8227af9dee5d6c4945c1ace28dcd4e456be09", "9f1c6a52-3b7e-4d0a-9c55-000000009001"),
    *("jan@gemeente.nl", "@", "***", "******78", "65c2…d44b", "2026-12-07 02:16:50", "127.0.0.1:8000", "x", "-", "+/="),
)


def test_the_fast_paths_find_what_the_plain_patterns_find() -> None:
    """The masker's quick tests and reordered patterns are speed-ups only: they accept exactly the same texts."""
    plain_number = re.compile(r"(?<![\w.\-])\d(?:[ .]?\d){7,11}(?![\w:]|[ .]?\d)")
    plain_name = re.compile(
        rf"(?<![\w-]){privacy._WORD}(?:\s+(?:{privacy._PARTICLE}\s+)*{privacy._WORD}){{1,3}}(?![\w-])"
    )
    rnd = random.Random(17)
    for _ in range(3000):
        glue = ("", " ", ".", ":", "-", ", ", "\n")
        text = "".join(rnd.choice(_PIECES) + rnd.choice(glue) for _ in range(rnd.randint(1, 7)))
        assert privacy._suspect(text, text.lower()) == (privacy._SUSPECT.search(text) is not None), text
        assert [m.span() for m in privacy._NUMBER.finditer(text)] == [m.span() for m in plain_number.finditer(text)]
        assert [m.span() for m in privacy._NAME.finditer(text)] == [m.span() for m in plain_name.finditer(text)]
    # A pseudonym or ID on its own is masked at once: the full pass would give the same, labels and names too.
    for _ in range(3000):
        run = "".join(rnd.choice("abcdefKVBSNRIkvbsnri0123456789_+/=-") for _ in range(rnd.randint(20, 50)))
        run = rnd.choice(("", "kvk", "bsn=", "naam=Jan=", "Vestiging")) + run
        if privacy._RUN.fullmatch(run) and privacy._is_pseudonym(run):
            assert privacy._mask(run) == privacy._mask_in_text(run) == privacy.mask_pseudonym(run), run
