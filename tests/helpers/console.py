"""The service desk console's test account, and logging in to it the way a browser does (with its CSRF token)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

USER = "anne.servicedesk"
PASSWORD = "correct horse battery staple"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match[1]


def login(client: TestClient, name: str = USER, password: str = PASSWORD) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": name, "password": password, "csrf_token": csrf_token(page.text), "next": "/servicedesk"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
