"""The login in progress, carried between the simulator's screens in a signed hidden field.

Several server workers may serve one login, so nothing is kept in process memory: the state travels
with the browser, signed with ``settings.session_secret`` so a tester cannot change the ACS, the dienst
or the request it answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from diagnostics.settings import Settings

SALT = "inloghulp-simulator-login"
MAX_AGE_SECONDS = 30 * 60


class BadState(ValueError):
    """The hidden field was changed, is too old, or is missing."""


@dataclass(frozen=True)
class LoginState:
    request_id: str
    acs_url: str
    relay_state: str | None
    supplier_id: str | None
    # The dienst that asked, and the ServiceID its request named: the answer is built for them.
    sp_entity_id: str
    service_id: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret, salt=SALT)


def dump_state(settings: Settings, state: LoginState) -> str:
    return _serializer(settings).dumps(asdict(state))


def load_state(settings: Settings, token: str) -> LoginState:
    """The state in ``token``; BadState when it was not made by this service in the last 30 minutes."""
    try:
        data = _serializer(settings).loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        raise BadState("state signature invalid or expired") from None
    if not isinstance(data, dict):
        raise BadState("state has the wrong shape")
    try:
        return LoginState(
            request_id=str(data["request_id"]),
            acs_url=str(data["acs_url"]),
            relay_state=None if data["relay_state"] is None else str(data["relay_state"]),
            supplier_id=None if data["supplier_id"] is None else str(data["supplier_id"]),
            sp_entity_id=str(data["sp_entity_id"]),
            service_id=str(data["service_id"]),
        )
    except KeyError:
        raise BadState("state has the wrong shape") from None
