"""The broker registry: metadata and AD lists are only believed when signed by a trusted certificate."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from diagnostics import certs, crypto
from diagnostics.brokers import (
    MD,
    BrokerError,
    BrokerRegistry,
    Trust,
    load_broker,
    metadata_trust,
    parse_ad_list,
    parse_metadata,
)
from diagnostics.settings import BrokerConfig, Settings, load_settings
from diagnostics.simulator.embedded import embedded_broker
from diagnostics.timed_cache import TimedCache
from tests.helpers.broker_documents import BROKER_ID, DS, ad_list_xml, metadata_xml
from tests.helpers.messages import split_by_comment


@pytest.fixture(scope="module")
def broker_pair() -> certs.KeyPair:
    return certs.generate("Test broker", serial_number="00000009999999999001")


@pytest.fixture(scope="module")
def other_pair() -> certs.KeyPair:
    return certs.generate("Someone else")


CONFIG = BrokerConfig(id="hm", name="Test HM", metadata_url="https://hm.example/metadata")


def test_parse_metadata_reads_endpoints_certificates_and_validity(broker_pair: certs.KeyPair) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    info = parse_metadata(
        metadata_xml(broker_pair, valid_until=until), CONFIG, Trust((broker_pair.cert,), True), source="x"
    )
    assert info.entity_id == BROKER_ID
    assert info.sso_redirect_url == "https://hm.example/sso/redirect"
    assert info.sso_post_url == "https://hm.example/sso/post"
    # The isDefault endpoint first, then by index.
    assert info.ars_urls == ("https://ars-a.example/ars", "https://ars-b.example/ars")
    assert info.ars_url_for(1) == "https://ars-b.example/ars"
    assert info.ars_url_for(7) == "https://ars-a.example/ars"
    assert info.signing_fingerprints == [certs.fingerprint_sha256(broker_pair.cert)]
    assert info.valid_until == until
    assert info.signature_verified is True
    assert info.source_id == hashlib.sha1(BROKER_ID.encode()).digest()
    assert info.soap_content_type == "text/xml"


def test_a_comment_inside_a_certificate_or_a_name_does_not_cut_it_short(broker_pair: certs.KeyPair) -> None:
    # Signatures leave comments out, so a signed document may carry one anywhere; the value is all the text.
    metadata = _with_comment_inside(etree.fromstring(metadata_xml(broker_pair)), f"{{{DS}}}X509Certificate")
    crypto.sign(metadata, broker_pair.key_pem, broker_pair.cert_pem)
    info = parse_metadata(etree.tostring(metadata), CONFIG, Trust((broker_pair.cert,), True), source="x")
    assert info.signing_fingerprints == [certs.fingerprint_sha256(broker_pair.cert)]
    ads = _with_comment_inside(
        etree.fromstring(ad_list_xml(None, [("urn:etoegang:AD:1:entities:1", "Leverancier Een")])),
        f"{{{MD}}}OrganizationDisplayName",
    )
    crypto.sign(ads, broker_pair.key_pem, broker_pair.cert_pem)
    assert [s.display_name for s in parse_ad_list(etree.tostring(ads), info)] == ["Leverancier Een"]


def _with_comment_inside(root: etree._Element, tag: str) -> etree._Element:
    """``root`` unsigned, with a comment in the middle of the text of each ``tag`` element."""
    _strip_signature(root)
    for element in root.iter(tag):
        split_by_comment(element)
    return root


@pytest.mark.parametrize(
    ("make", "diagnosis"),
    [
        pytest.param(lambda b, o: metadata_xml(b, sign_with=o), "untrusted-certificate", id="signed-by-stranger"),
        pytest.param(
            lambda b, o: metadata_xml(b).replace(b"https://hm.example/sso/post", b"https://evil.example/sso"),
            "bad-signature",
            id="changed-after-signing",
        ),
        pytest.param(
            lambda b, o: etree.tostring(_strip_signature(etree.fromstring(metadata_xml(b)))),
            "metadata-unsigned",
            id="unsigned",
        ),
        pytest.param(
            lambda b, o: metadata_xml(b, valid_until=datetime.now(UTC) - timedelta(hours=1)),
            "config-error",
            id="expired",
        ),
        pytest.param(lambda b, o: metadata_xml(b, ars=False), "malformed", id="no-ars"),
        pytest.param(lambda b, o: b"<md:EntitiesDescriptor", "malformed", id="not-xml"),
        pytest.param(
            lambda b, o: b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
            "malformed",
            id="dtd",
        ),
    ],
)
def test_parse_metadata_fails_closed(
    broker_pair: certs.KeyPair, other_pair: certs.KeyPair, make: Callable[..., bytes], diagnosis: str
) -> None:
    with pytest.raises(BrokerError) as caught:
        parse_metadata(make(broker_pair, other_pair), CONFIG, Trust((broker_pair.cert,), True), source="x")
    assert caught.value.diagnosis == diagnosis


def _strip_signature(root: etree._Element) -> etree._Element:
    for signature in root.findall(f"{{{DS}}}Signature"):
        root.remove(signature)
    return root


def test_unpinned_url_metadata_is_refused_in_production(write_config: Callable[..., Path]) -> None:
    settings = load_settings(
        write_config(
            {
                "environment": "production",
                "session_secret": "a-real-secret-for-this-test-0123",
                "public_base_url": "https://inloghulp.example",
                "brokers": [{"id": "hm", "name": "HM", "metadata_url": "https://hm.example/md"}],
                "simulator": {"enabled": False},
            }
        )
    )
    with pytest.raises(BrokerError) as caught:
        metadata_trust(settings, settings.broker("hm"))
    assert caught.value.diagnosis == "config-error"


def test_pinned_certificate_is_required_to_sign(
    write_config: Callable[..., Path], tmp_path: Path, broker_pair: certs.KeyPair, other_pair: certs.KeyPair
) -> None:
    pin = tmp_path / "pin.pem"
    pin.write_bytes(broker_pair.cert_pem)
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(metadata_xml(broker_pair))
    bad.write_bytes(metadata_xml(broker_pair, sign_with=other_pair))
    settings = load_settings(
        write_config(
            {
                "brokers": [
                    {"id": "good", "name": "Good", "metadata_file": str(good), "metadata_signing_cert_file": str(pin)},
                    {"id": "bad", "name": "Bad", "metadata_file": str(bad), "metadata_signing_cert_file": str(pin)},
                    {"id": "plain", "name": "Plain", "metadata_file": str(bad)},
                ]
            }
        )
    )
    assert load_broker(settings, "good").signature_verified is True
    with pytest.raises(BrokerError) as caught:
        load_broker(settings, "bad")
    assert caught.value.diagnosis == "untrusted-certificate"
    # An operator-installed file without a pin is configuration: believed, but not marked verified.
    plain = load_broker(settings, "plain")
    assert plain.entity_id == BROKER_ID
    assert plain.signature_verified is False


def test_ad_list_keeps_order_and_needs_the_broker_signature(
    broker_pair: certs.KeyPair, other_pair: certs.KeyPair
) -> None:
    info = parse_metadata(metadata_xml(broker_pair), CONFIG, Trust((broker_pair.cert,), True), source="x")
    names = [("urn:etoegang:AD:1:entities:2", "Zeta"), ("urn:etoegang:AD:1:entities:1", "Alfa")]
    suppliers = parse_ad_list(ad_list_xml(broker_pair, names), info)
    assert [(s.entity_id, s.display_name) for s in suppliers] == names
    for signer, diagnosis in ((None, "metadata-unsigned"), (other_pair, "untrusted-certificate")):
        with pytest.raises(BrokerError) as caught:
            parse_ad_list(ad_list_xml(signer, names), info)
        assert caught.value.diagnosis == diagnosis


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_registry_fetches_lazily_caches_and_refreshes(
    write_config: Callable[..., Path], broker_pair: certs.KeyPair, tmp_path: Path
) -> None:
    pin = tmp_path / "pin.pem"
    pin.write_bytes(broker_pair.cert_pem)
    settings = load_settings(
        write_config(
            {
                "brokers": [
                    {
                        "id": "hm",
                        "name": "HM",
                        "metadata_url": "https://hm.example/md",
                        "ad_list_url": "https://hm.example/listAD.xml",
                        "metadata_signing_cert_file": str(pin),
                        "soap_content_type": "application/soap+xml",
                    }
                ]
            }
        )
    )
    calls: list[httpx.URL] = []
    ads = ad_list_xml(broker_pair, [("urn:etoegang:AD:1:entities:1", "Alfa")])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        body = metadata_xml(broker_pair) if request.url.path == "/md" else ads
        return httpx.Response(200, content=body)

    clock = FakeClock()
    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler), ttl_seconds=60, clock=clock)
    assert calls == []  # nothing is fetched before first use

    first = await registry.broker("hm")
    again = await registry.broker("hm")
    suppliers = await registry.suppliers("hm")
    await registry.suppliers("hm")
    clock.now += 61
    await registry.broker("hm")

    assert first is again
    assert first.soap_content_type == "application/soap+xml"
    assert [s.display_name for s in suppliers] == ["Alfa"]
    assert [url.path for url in calls] == ["/md", "/listAD.xml", "/md"]
    assert calls[1].params["ServiceUUID"] == settings.service.uuid


@pytest.mark.anyio
async def test_registry_reports_an_unreachable_broker(write_config: Callable[..., Path]) -> None:
    settings = load_settings(write_config({"brokers": [{"id": "hm", "name": "HM", "metadata_url": "https://hm.x/md"}]}))

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler))
    with pytest.raises(BrokerError) as caught:
        await registry.broker("hm")
    assert caught.value.diagnosis == "broker-unreachable"
    with pytest.raises(KeyError):
        await registry.broker("nope")


@pytest.mark.anyio
async def test_registry_remembers_a_broker_that_is_down_for_a_while(write_config: Callable[..., Path]) -> None:
    brokers = [{"id": "hm", "name": "HM", "metadata_url": "https://hm.x/md", "ad_list_url": "https://hm.x/ad"}]
    settings = load_settings(write_config({"brokers": brokers}))
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    clock = FakeClock()
    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler), failure_ttl_seconds=30, clock=clock)

    async def diagnoses() -> list[str]:
        found = []
        for ask in (registry.broker, registry.suppliers, registry.broker):
            with pytest.raises(BrokerError) as caught:
                await ask("hm")
            found.append(caught.value.diagnosis)
        return found

    # Every page during an outage gets the answer at once; the broker is asked once per 30 s, not per page.
    assert await diagnoses() == ["broker-unreachable"] * 3
    assert asked == ["/md"]
    clock.now += 31
    await diagnoses()
    assert asked == ["/md", "/md"]
    registry.forget()  # after a metadata change, ask again at once
    await diagnoses()
    assert asked == ["/md", "/md", "/md"]


@pytest.mark.anyio
async def test_registry_waits_at_most_wait_seconds_and_keeps_the_late_answer(
    write_config: Callable[..., Path], broker_pair: certs.KeyPair, tmp_path: Path
) -> None:
    pin = tmp_path / "pin.pem"
    pin.write_bytes(broker_pair.cert_pem)
    brokers = [{"id": "hm", "name": "HM", "metadata_url": "https://hm.x/md", "metadata_signing_cert_file": str(pin)}]
    settings = load_settings(write_config({"brokers": brokers}))
    asked: list[str] = []

    answer = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        await answer.wait()  # a slow broker
        return httpx.Response(200, content=metadata_xml(broker_pair))

    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler), wait_seconds=0.05)
    with pytest.raises(BrokerError) as caught:
        await registry.broker("hm")
    answer.set()
    await asyncio.sleep(0.2)  # the fetch went on without the page that gave up
    late, entity_id = caught.value, (await registry.broker("hm")).entity_id

    assert late.diagnosis == "broker-unreachable"
    assert late.message == "De metadata van HM is niet binnen 0.05 seconden opgehaald."
    assert entity_id == BROKER_ID
    assert asked == ["/md"]


@pytest.mark.anyio
async def test_suppliers_share_one_deadline_with_the_metadata(
    write_config: Callable[..., Path], broker_pair: certs.KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The chooser needs two documents; a slow metadata answer leaves less time for the AD list, so the
    # page waits at most wait_seconds in all, not wait_seconds per document.
    pin = tmp_path / "pin.pem"
    pin.write_bytes(broker_pair.cert_pem)
    brokers = [
        {
            "id": "hm",
            "name": "HM",
            "metadata_url": "https://hm.x/md",
            "ad_list_url": "https://hm.x/ad",
            "metadata_signing_cert_file": str(pin),
        }
    ]
    settings = load_settings(write_config({"brokers": brokers}))
    waits: list[float | None] = []
    get = TimedCache.get

    async def spy(cache: TimedCache[Any], key: str, fetch: Any, *, wait_seconds: float | None = None) -> Any:
        waits.append(wait_seconds)
        return await get(cache, key, fetch, wait_seconds=wait_seconds)

    monkeypatch.setattr(TimedCache, "get", spy)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/md":
            await asyncio.sleep(0.1)  # the metadata takes a while
            return httpx.Response(200, content=metadata_xml(broker_pair))
        return httpx.Response(200, content=ad_list_xml(broker_pair, [("urn:etoegang:AD:1:entities:1", "Alfa")]))

    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler), wait_seconds=1.0)
    suppliers = await registry.suppliers("hm")
    assert [supplier.display_name for supplier in suppliers] == ["Alfa"]
    metadata_wait, list_wait = waits
    assert metadata_wait is None  # the full wait
    assert list_wait is not None and list_wait <= 0.9  # what the metadata left of the same 1 s


def test_load_broker_builds_the_embedded_simulator_metadata_in_process(settings: Settings) -> None:
    # No server runs here: the embedded broker's metadata must not be fetched over HTTP.
    info = load_broker(settings, "simulator", embedded=embedded_broker(settings))
    assert info.source == "simulator"
    assert info.entity_id.startswith("urn:etoegang:HM:")
    assert info.signing_certs


@pytest.mark.anyio
async def test_the_embedded_broker_is_not_believed_without_the_simulator_handed_in(settings: Settings) -> None:
    # The SAML layer does not import the simulator: whoever wires the process hands it in, or nothing is trusted.
    with pytest.raises(BrokerError) as refused:
        load_broker(settings, "simulator")
    assert refused.value.diagnosis == "config-error"
    registry = BrokerRegistry(settings, transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    try:
        with pytest.raises(BrokerError) as refused:
            await registry.broker("simulator")
        assert refused.value.diagnosis == "config-error"
    finally:
        await registry.aclose()
