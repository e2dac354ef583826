"""The composition root: every long-lived resource of the service, built once when the app starts.

Nothing below is a module-level cache. The app's lifespan opens one :class:`Resources`, keeps it on
``app.state.resources`` and closes it at shutdown; routes receive its parts through the ``Annotated``
dependencies in ``diagnostics.deps``, middleware reads it from ``scope["app"]``. A test gets a fresh
set with every app it starts (``with TestClient(app)``), so nothing leaks from one test to the next.
See ARCHITECTURE.md, "Composition root".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import httpx
from anyio import to_thread
from starlette.types import Scope

from diagnostics import crypto
from diagnostics.brokers import BrokerRegistry
from diagnostics.catalogue import load_catalogue
from diagnostics.certs import KeyFiles
from diagnostics.csp import BrokerSsoOrigins, content_security_policy
from diagnostics.outage import OutageWatch
from diagnostics.settings import Settings
from diagnostics.simulator.embedded import embedded_broker
from diagnostics.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """What one process of the service shares between requests."""

    settings: Settings
    # The database: sessions, replay protection, artifacts, accounts, rate limits.
    store: Store
    # Broker metadata and AD lists (cached, single-flight) and one HTTP client per broker.
    registry: BrokerRegistry
    # Our SP key pair, parsed once and again only after a rollover.
    sp_keys: KeyFiles
    # The brokers' SSO origins for the CSP's form-action, from the registry.
    sso_origins: BrokerSsoOrigins
    # Which brokers seem to be down now (diagnostics.outage), counted at most every 20 s per process.
    outage: OutageWatch

    def form_policy(self, form_action_urls: Iterable[str]) -> str:
        """The CSP for a page whose form ends at ``form_action_urls``: the simulator's part of its host
        interface (``diagnostics.simulator.host``), so the simulator does not import the CSP code."""
        return content_security_policy(self.settings, form_action_urls=form_action_urls)


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, *, broker_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Resources]:
    """Build the resources for ``settings``; close them when the block ends.

    ``broker_transport`` replaces the network for every broker call (tests point it at a fake broker).
    """
    store = Store(settings.database_url, migrate=False)
    try:
        # Connecting and migrating the schema block: off the event loop.
        await to_thread.run_sync(store.migrate)
    except Exception as exc:  # any driver error: start anyway, /readyz reports the database
        log.error("database not available at start (%s); the schema follows when it answers", type(exc).__name__)
    # The failure catalogue is read and validated once per process: here, not in the first user's request.
    await to_thread.run_sync(load_catalogue)
    sp_keys = KeyFiles(settings.sp.key_file, settings.sp.cert_file)
    try:
        await to_thread.run_sync(_prepare, sp_keys)
    except Exception as exc:  # unreadable or mismatched files: check-config names them, signing pages fail on them
        log.error("SP key pair not readable at start: %s", type(exc).__name__)
    # The embedded simulator's certificate and metadata are handed to the registry here: the registry (SAML
    # layer) does not import the simulator, and the simulator does not import this module.
    registry = BrokerRegistry(settings, transport=broker_transport, embedded=embedded_broker(settings))
    try:
        yield Resources(
            settings=settings,
            store=store,
            registry=registry,
            sp_keys=sp_keys,
            sso_origins=BrokerSsoOrigins(settings, registry),
            outage=OutageWatch(settings.notices.outage_threshold),
        )
    finally:
        await registry.aclose()
        await store.aclose()


def _prepare(sp_keys: KeyFiles) -> None:
    """Parse the SP key pair once, before the first request needs it (see crypto.prepare_key_pair)."""
    pair = sp_keys.current()
    crypto.prepare_key_pair(pair.key_pem, pair.cert_pem)


def resources_in(scope: Scope) -> Resources:
    """The resources of the app serving ``scope`` (for middleware, which runs outside the routes)."""
    resources = getattr(scope["app"].state, "resources", None)
    if not isinstance(resources, Resources):
        # A programming error, not a user error: an app used without its lifespan.
        raise RuntimeError("the app's lifespan has not run; start the app (with TestClient(app) as client: ...)")
    return resources
