"""Fuzz every operation of the app's OpenAPI (and the console forms) with hypothesis: never a 500,
never a stack trace or an internal path in the answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.app import create_app
from diagnostics.settings import load_settings

HOSTILE = [
    "",
    " ",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1:9/a}",
    "%00",
    "\x00",
    "A" * 5000,
    "BHP-AAAA-AAAA",
    "bhp-0000-0000",
    "urn:etoegang:AD:00000009999999999001:entities:9001",
    "success-loa2plus",
    "PHNhbWxwOlJlc3BvbnNlLz4=",
    "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><a>&x;</a>",
    "-1",
    "99999999999999999999999999",
    "NaN",
    "null",
    "[]",
    "{}",
    "é€😀",
]
INTERNALS = re.compile(r"Traceback \(most recent|File \"/|site-packages|/work/|\.py\", line", re.IGNORECASE)
# Routes that wait on purpose (the simulator's slow broker) or stream: none are in the schema today.
SKIP: set[tuple[str, str]] = set()

texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))
scalars = st.one_of(texts, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Iterator[TestClient]:
    from tests.helpers.config import config_file

    # The fuzzer sends thousands of requests from one address.
    overrides = {"rate_limits": {"roundtrip_start": 0, "explain": 0, "login": 0, "lookup": 0, "simulator_login": 0}}
    settings = load_settings(config_file(tmp_path_factory.mktemp("fuzz"), *sp_keypair, overrides))
    app = create_app(settings)
    with TestClient(app, base_url=settings.public_base_url, raise_server_exceptions=False) as test_client:
        yield test_client


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved: dict[str, Any] = components["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved
    return schema


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    schema = client.app.openapi()  # type: ignore[attr-defined]
    components = schema.get("components", {})
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method, path) not in SKIP:
                found.append((method.upper(), path, operation, components))
    return found


def _body_fields(operation: dict[str, Any], components: dict[str, Any]) -> tuple[str | None, list[str]]:
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, description in content.items():
        body_schema = _resolve(description.get("schema", {}), components)
        return media_type, sorted(body_schema.get("properties", {}))
    return None, []


def _check(response: Any, what: str) -> None:
    assert response.status_code != 500, f"{what}: 500\n{response.text[:500]}"
    assert not INTERNALS.search(response.text), f"{what}: internals in the answer\n{response.text[:500]}"
    if response.status_code >= 500:
        # 502/503/504 are deliberate (broker unreachable, not ready): they carry a stable id or a page.
        assert "internal-error" not in response.text, what


def _one_request(
    client: TestClient,
    data: st.DataObject,
    method: str,
    path: str,
    operation: dict[str, Any],
    components: dict[str, Any],
) -> None:
    url = path
    params: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        value = data.draw(texts, label=parameter["name"])
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(value, safe="") or "x")
        elif parameter["in"] == "query" and data.draw(st.booleans()):
            params[parameter["name"]] = value
    media_type, fields = _body_fields(operation, components)
    kwargs: dict[str, Any] = {"params": params, "follow_redirects": False}
    if method != "GET":
        shape = data.draw(st.sampled_from(["fields", "garbage", "json"]), label="body")
        if shape == "fields" and media_type == "application/x-www-form-urlencoded":
            kwargs["data"] = {name: data.draw(texts, label=name) for name in fields if data.draw(st.booleans())}
        elif shape == "fields" or shape == "json":
            body = (
                {name: data.draw(json_values, label=name) for name in fields}
                if shape == "fields"
                else data.draw(json_values)
            )
            kwargs["content"] = json.dumps(body).encode()
            kwargs["headers"] = {"content-type": "application/json"}
        else:
            kwargs["content"] = data.draw(st.binary(max_size=2000))
            kwargs["headers"] = {"content-type": media_type or "application/octet-stream"}
    response = client.request(method, url, **kwargs)
    _check(response, f"{method} {url}")


def test_the_schema_lists_the_public_api(client: TestClient) -> None:
    paths = {path for _, path, _, _ in _operations(client)}
    assert {"/healthz", "/api/v1/service-info", "/diagnose/start", "/saml/acs"} <= paths


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_operation_answers_500(client: TestClient, data: st.DataObject) -> None:
    operations = _operations(client)
    method, path, operation, components = data.draw(st.sampled_from(operations), label="operation")
    _one_request(client, data, method, path, operation, components)


CONSOLE_FORMS = ["/servicedesk/login", "/servicedesk/logout", "/servicedesk/zoek", "/servicedesk/analyse"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(CONSOLE_FORMS),
    form=st.dictionaries(st.sampled_from(["name", "password", "next", "csrf_token", "code", "message"]), texts),
)
def test_console_forms_never_answer_500(client: TestClient, path: str, form: dict[str, str]) -> None:
    _check(client.post(path, data=form, follow_redirects=False), f"POST {path}")


def test_every_operation_is_reachable_by_the_fuzzer(client: TestClient) -> None:
    """Each operation once with empty input: the cheapest proof that none of them crashes outright."""
    for method, path, _operation, _ in _operations(client):
        url = re.sub(r"\{[^}]+\}", "x", path)
        _check(client.request(method, url, follow_redirects=False), f"{method} {url}")


@pytest.fixture(scope="module")
def console(client: TestClient) -> TestClient:
    """The fuzz client, logged in to the servicedesk console."""
    from diagnostics.servicedesk import accounts
    from diagnostics.store import Store

    settings_ = client.app.state.settings  # type: ignore[attr-defined]
    accounts.create_user(Store(settings_.database_url).engine, "fuzz.user", "correct horse battery staple")
    page = client.get("/servicedesk/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/servicedesk/login",
        data={"name": "fuzz.user", "password": "correct horse battery staple", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


PASTES = st.one_of(
    texts,
    json_values.map(json.dumps),
    st.builds(lambda value: json.dumps({"log": value}), json_values),
    st.builds(lambda value: json.dumps({"log": {"entries": value}}), json_values),
    st.builds(lambda value: json.dumps({"log": {"entries": [value]}}), json_values),
    st.builds(lambda value: json.dumps({"requests": value}), json_values),
    st.builds(lambda value: json.dumps({"requests": [value]}), json_values),
)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=PASTES)
def test_the_paste_box_never_answers_500(console: TestClient, message: str) -> None:
    page = console.get("/servicedesk")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    response = console.post("/servicedesk/analyse", data={"message": message, "csrf_token": token[1]})
    _check(response, "POST /servicedesk/analyse")
