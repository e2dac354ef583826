"""Round trips through real HTTP against the embedded simulator: every scenario ends in its diagnosis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from bs4 import BeautifulSoup

from diagnostics import ownership
from diagnostics.catalogue import load_catalogue
from diagnostics.simulator.scenarios import SCENARIO_IDS
from tests.helpers.jargon import JARGON
from tests.helpers.live_server import LiveServer
from tests.helpers.ownership import latest_reference
from tests.routes.roundtrip_server import REFERENCE_RE, first_supplier, roundtrip_server, run_test

TIMEOUT_SECONDS = 1

# scenario -> (verdict, diagnosis id); None for a login that never comes back.
EXPECTED: dict[str, tuple[str, str | None] | None] = {
    "success-loa2plus": ("ok", None),
    "success-loa3": ("ok", None),
    "loa-too-low": ("failed", "loa-too-low"),
    "cancelled": ("failed", "cancelled"),
    "auth-failed": ("failed", "auth-failed"),
    "stopped-at-broker": ("failed", "stopped-at-broker"),
    "unknown-principal": ("failed", "unknown-principal"),
    "request-unsupported": ("failed", "request-unsupported"),
    "requester-error": ("failed", "config-error"),
    "unknown-status": ("failed", "broker-error"),
    "no-authorisation": None,
    "wrong-service": ("failed", "wrong-service"),
    "expired": ("failed", "expired"),
    "not-yet-valid": ("failed", "not-yet-valid"),
    "bad-signature": ("failed", "bad-signature"),
    "unsigned": ("failed", "unsigned"),
    "untrusted-key": ("failed", "untrusted-certificate"),
    "wrong-audience": ("failed", "wrong-audience"),
    "wrong-destination": ("failed", "wrong-destination"),
    "slow": ("ok", None),
    "broker-error": ("failed", "broker-error"),
}


def test_the_table_covers_every_simulator_scenario() -> None:
    assert set(EXPECTED) == set(SCENARIO_IDS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with roundtrip_server(
        tmp_path_factory.mktemp("roundtrip"), {"no_response_timeout_seconds": TIMEOUT_SECONDS}
    ) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as http:
        yield http


def assert_plain_timeline_and_full_trace(html: str) -> int:
    page = BeautifulSoup(html, "html.parser")
    timeline = page.select_one("ol.timeline")
    assert timeline is not None
    assert JARGON.search(timeline.get_text(" ")) is None, timeline.get_text(" ", strip=True)
    trace = page.select_one("ol.checks")
    assert trace is not None
    resolved = [item for item in trace.select("li.check-pass") if item.find("code", string="artifact-resolve")]
    for item in resolved:
        # What the servicedesk compares stays on the page: the SOAP address and the Content-Type used.
        assert "Content-Type" in item.get_text() and "ars_url" in item.get_text()
    return len(resolved)  # the number of successful SOAP resolves whose details the trace shows


def wait_for_timeout() -> None:
    # The configured timeout is 1 s; a "never came back" test has to let it pass once.
    time.sleep(TIMEOUT_SECONDS + 0.2)


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_round_trip_ends_in_the_expected_diagnosis(client: httpx.Client, scenario: str) -> None:
    reference, page = run_test(client, scenario)
    expected = EXPECTED[scenario]
    if expected is None:
        # The simulator shows its own "no machtiging" page and never sends the user back.
        assert page.url.path.startswith("/simulator/")
        assert client.get(f"/api/v1/diagnose/{reference}").json()["verdict"] == "inconclusive"
        wait_for_timeout()
        expected = ("failed", "no-response")
    else:
        assert page.status_code == 200
        match = REFERENCE_RE.search(page.url.path)
        assert match and match[1] == reference, page.url
    verdict = client.get(f"/api/v1/diagnose/{reference}").json()
    assert (verdict["verdict"], verdict["diagnosis"] and verdict["diagnosis"]["id"]) == expected, verdict
    assert verdict["reference"] == reference
    html = client.get(f"/diagnose/{reference}").text
    assert reference in html
    resolved = assert_plain_timeline_and_full_trace(html)
    if expected[0] == "ok":
        assert resolved == 1
    if expected[1] is not None:
        assert verdict["diagnosis"]["title"] in html


@pytest.mark.parametrize(
    ("answer", "diagnosis"),
    [
        ("geen-machtiging", "no-authorisation"),
        ("geannuleerd", "cancelled"),
        ("code-werkte-niet", "auth-failed"),
        ("weet-niet", "no-response"),
    ],
)
def test_never_came_back_asks_what_the_user_saw(client: httpx.Client, answer: str, diagnosis: str) -> None:
    reference, _ = run_test(client, "no-authorisation")
    waiting = client.get(f"/diagnose/{reference}").text
    assert "Deze test loopt nog" in waiting and "Wij kregen nog geen antwoord terug." in waiting
    wait_for_timeout()
    question = client.get(f"/diagnose/{reference}").text
    assert "Wat zag u bij uw eHerkenningsmakelaar?" in question and "Wij kregen geen antwoord terug." in question
    # The next visit to the chooser points back to the unanswered question (cookie with the last reference).
    assert f"/diagnose/{reference}#vraag" in client.get("/diagnose").text
    answered = client.post(f"/diagnose/{reference}/antwoord", data={"antwoord": answer})
    assert answered.status_code == 200
    assert "Wat zag u bij uw eHerkenningsmakelaar?" not in answered.text
    verdict = client.get(f"/api/v1/diagnose/{reference}").json()
    assert verdict["diagnosis"]["id"] == diagnosis
    assert [check["id"] for check in verdict["checks"]] == ["response", "user-answer"]


@pytest.mark.parametrize(
    ("answer", "diagnosis"),
    [
        ("geen-machtiging", "no-authorisation"),
        ("geannuleerd", "cancelled"),
        ("code-werkte-niet", "auth-failed"),
        ("weet-niet", "stopped-at-broker"),
    ],
)
def test_a_silent_authn_failed_asks_what_the_user_saw(client: httpx.Client, answer: str, diagnosis: str) -> None:
    # Responder/AuthnFailed without a StatusMessage: a cancel as often as a wrong password, so nothing is claimed.
    reference, page = run_test(client, "stopped-at-broker")
    assert page.status_code == 200
    result = BeautifulSoup(page.text, "html.parser")
    heading = result.select_one("#uitslag-kop")
    title = load_catalogue().entry("stopped-at-broker").title
    assert heading is not None and heading.get_text(" ", strip=True).endswith(f"Inloggen is niet gelukt. {title}")
    question = result.select_one("#vraag")
    assert question is not None and "Wat zag u bij uw eHerkenningsmakelaar?" in question.get_text()
    assert "stuurde u terug, maar zei niet waarom" in question.get_text()
    # The text for the servicedesk names the check in Dutch, not by its internal id.
    copy_text = result.select_one("#kopieer-tekst")
    assert copy_text is not None
    assert "Eerste controle die niet goed ging: Status van de makelaar" in copy_text.get_text()
    assert "stopped-at-broker" not in copy_text.get_text()
    answered = client.post(f"/diagnose/{reference}/antwoord", data={"antwoord": answer})
    assert answered.status_code == 200
    assert BeautifulSoup(answered.text, "html.parser").select_one("#vraag") is None
    verdict = client.get(f"/api/v1/diagnose/{reference}").json()
    assert verdict["diagnosis"]["id"] == diagnosis
    # The checked answer stays in the trace; the user's answer is added after it.
    assert verdict["checks"][-1]["id"] == "user-answer"
    assert any(check["id"] == "status" and check["diagnosis"] == "stopped-at-broker" for check in verdict["checks"])


def test_the_copy_text_of_a_test_that_never_came_back_names_no_internal_check_id(client: httpx.Client) -> None:
    reference, _ = run_test(client, "no-authorisation")
    wait_for_timeout()
    page = BeautifulSoup(client.get(f"/diagnose/{reference}").text, "html.parser")
    copy_text = page.select_one("#kopieer-tekst")
    assert copy_text is not None
    lines = copy_text.get_text().splitlines()
    assert "Eerste controle die niet goed ging: Antwoord van de eHerkenningsmakelaar" in lines
    # A timeout of 1 second is worded as one, not rounded up to "1 minuut".
    verdict = client.get(f"/api/v1/diagnose/{reference}").json()
    assert verdict["checks"][0]["detail"].startswith("Binnen 1 seconde kwam er geen antwoord terug")


def test_a_broker_answer_after_the_users_answer_decides(server: LiveServer) -> None:
    # The user answered "Ik weet het niet" in our tab, then finished the login at the broker after all.
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        _, supplier = first_supplier(http)
        to_broker = http.post(
            "/diagnose/start", data={"broker": "simulator", "supplier": supplier, "scenario": "success-loa3"}
        )
        back = http.get(to_broker.headers["location"])
        query = httpx.URL(back.headers["location"]).params
        reference = latest_reference(http.cookies.get(ownership.COOKIE))
        assert http.post(f"/diagnose/{reference}/antwoord", data={"antwoord": "weet-niet"}).status_code == 303
        assert http.get(f"/api/v1/diagnose/{reference}").json()["diagnosis"]["id"] == "no-response"
        result = http.post("/saml/acs", data={"SAMLart": query["SAMLart"], "RelayState": query["RelayState"]})
        assert result.status_code == 303 and result.headers["location"].endswith(reference)
        assert http.get(f"/api/v1/diagnose/{reference}").json()["verdict"] == "ok"


def test_the_acs_accepts_the_artifact_by_post(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        page = http.get("/diagnose")
        broker = "simulator"
        supplier = page.text.split('name="supplier" value="', 1)[1].split('"', 1)[0]
        to_broker = http.post(
            "/diagnose/start", data={"broker": broker, "supplier": supplier, "scenario": "success-loa3"}
        )
        assert to_broker.status_code == 303
        back = http.get(to_broker.headers["location"])
        assert back.status_code == 303
        query = httpx.URL(back.headers["location"]).params
        result = http.post("/saml/acs", data={"SAMLart": query["SAMLart"], "RelayState": query["RelayState"]})
        assert result.status_code == 303
        assert REFERENCE_RE.search(result.headers["location"])
        verdict = http.get(f"/api/v1{result.headers['location']}").json()
        assert verdict["verdict"] == "ok"
        # The artifact was single use: sending it again does not change the verdict.
        again = http.get("/saml/acs", params={"SAMLart": query["SAMLart"], "RelayState": query["RelayState"]})
        assert again.headers["location"] == result.headers["location"]
        assert http.get(f"/api/v1{result.headers['location']}").json()["verdict"] == "ok"
        # A test that came back keeps its verdict: an answer to the no-response question just shows the result.
        answer = http.post(f"{result.headers['location']}/antwoord", data={"antwoord": "geannuleerd"})
        assert answer.status_code == 303
        assert http.get(f"/api/v1{result.headers['location']}").json()["verdict"] == "ok"


def test_a_double_submitted_artifact_keeps_a_good_login_ok(server: LiveServer) -> None:
    """Two ACS requests with the same artifact at once: one resolves it, the other waits for its verdict."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        broker, supplier = first_supplier(http)
        to_broker = http.post(
            "/diagnose/start", data={"broker": broker, "supplier": supplier, "scenario": "success-loa2plus"}
        )
        query = httpx.URL(http.get(to_broker.headers["location"]).headers["location"]).params
        params = {"SAMLart": query["SAMLart"], "RelayState": query["RelayState"]}
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: http.get("/saml/acs", params=params), range(4)))
        assert {answer.status_code for answer in answers} == {303}
        location = answers[0].headers["location"]
        assert {answer.headers["location"] for answer in answers} == {location}
        assert http.get(f"/api/v1{location}").json()["verdict"] == "ok"


@pytest.mark.parametrize(
    "relay_state",
    ["https://evil.example/diagnose/BHP-2345-6789", "//evil.example", "/diagnose/BHP-2345-6789/../x", "", "/elders"],
)
def test_the_acs_ignores_a_foreign_relay_state(client: httpx.Client, relay_state: str) -> None:
    response = client.get(
        "/saml/acs", params={"SAMLart": "AAQAAA==", "RelayState": relay_state}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "unsolicited" in response.text


def test_the_acs_without_artifact_is_a_clear_400(client: httpx.Client) -> None:
    response = client.get("/saml/acs", headers={"accept": "text/html"})
    assert response.status_code == 400
    text = BeautifulSoup(response.text, "html.parser").select_one("main").get_text(" ", strip=True)
    assert "Er is geen inlogbericht meegestuurd" in text
    assert not JARGON.search(text), JARGON.search(text)
