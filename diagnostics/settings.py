"""One configuration for the whole service: a TOML file, overridable by ``INLOGHULP_*`` variables.

The same values drive the beheerder card, the SP metadata, the dienstencatalogus fragment and the
SAML messages, so they can never disagree. The shipped file ``config/inloghulp.toml`` holds clearly
marked example values: BRO's real OIN and ServiceUUID are not public.
"""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from diagnostics.loa import Loa

DEFAULT_CONFIG = Path("config/inloghulp.toml")

SoapContentType = Literal["text/xml", "application/soap+xml"]

OIN_RE = re.compile(r"^\d{20}$")
SERVICE_ID_RE = re.compile(r"^urn:etoegang:DV:(?P<oin>\d{20}):services:(?P<index>\d{1,4})$")
ENTITY_ID_RE = re.compile(r"^urn:etoegang:DV:(?P<oin>\d{20}):entities:(?P<index>\d{1,4})$")

# The file the settings are read from; set by load_settings() so that one process can load
# several configurations (tests, check-config) without touching os.environ.
_config_file: ContextVar[Path | None] = ContextVar("inloghulp_config_file", default=None)


# Printable text only: names end up in XML, e-mail bodies and broker dashboards.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean_text(value: str, *, multiline: bool = False) -> str:
    if value != value.strip():
        raise ValueError("geen spaties aan begin of eind / no leading or trailing whitespace")
    if _CONTROL_RE.search(value.replace("\n", "") if multiline else value):
        raise ValueError("geen stuurtekens zoals tab of nieuwe regel / no control characters")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceConfig(_Section):
    """Our entry in the dienstencatalogus: what the eHerkenningsbeheerder must enter."""

    provider_name: Annotated[str, Field(min_length=1, max_length=64)]
    provider_oin: str
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[str, Field(min_length=1, max_length=1024)]
    uuid: str
    service_id: str
    required_loa: Loa = Loa.EH2PLUS
    attribute_consuming_service_index: Annotated[int, Field(ge=0, le=9999)]
    # True for the shipped configuration: every surface then labels the values "voorbeeldwaarde".
    example_values: bool = False
    # The dienstencatalogus carries names in Dutch and English; empty means: the Dutch text.
    name_en: Annotated[str, Field(max_length=64)] = ""
    description_en: Annotated[str, Field(max_length=1024)] = ""
    # The ServiceInstance has its own UUID; empty means: derived from uuid and service_id (stable).
    instance_uuid: str = ""

    @field_validator("provider_name", "name", "name_en")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("description", "description_en")
    @classmethod
    def _description(cls, value: str) -> str:
        return _clean_text(value, multiline=True)

    @field_validator("required_loa")
    @classmethod
    def _loa_in_use(cls, value: Loa) -> Loa:
        if value is Loa.EH1:
            raise ValueError("niveau 1 (EH1) bestaat sinds 1 juli 2021 niet meer / EH1 was discontinued in 2021")
        return value

    @field_validator("provider_oin")
    @classmethod
    def _oin(cls, value: str) -> str:
        if not OIN_RE.fullmatch(value):
            raise ValueError("een OIN is precies 20 cijfers / an OIN is exactly 20 digits")
        return value

    @field_validator("uuid", "instance_uuid")
    @classmethod
    def _uuid(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "instance_uuid" and value == "":
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("geen geldige UUID / not a valid UUID") from None

    @field_validator("service_id")
    @classmethod
    def _service_id(cls, value: str) -> str:
        match = SERVICE_ID_RE.fullmatch(value)
        if not match or int(match["index"]) < 1:
            raise ValueError("verwacht urn:etoegang:DV:<OIN>:services:<1-9999> / expected that ServiceID shape")
        return value

    @model_validator(mode="after")
    def _oin_matches(self) -> ServiceConfig:
        match = SERVICE_ID_RE.fullmatch(self.service_id)
        if match and match["oin"] != self.provider_oin:
            raise ValueError("service_id: bevat een andere OIN dan provider_oin / service_id names another OIN")
        if self.instance_uuid == self.uuid:
            raise ValueError("instance_uuid: moet een andere UUID zijn dan uuid / must differ from uuid")
        # eHerkenning: the AttributeConsumingService index of a service is its ServiceID index.
        if match and int(match["index"]) != self.attribute_consuming_service_index:
            raise ValueError(
                "attribute_consuming_service_index: moet gelijk zijn aan de index in service_id "
                f"({int(match['index'])}) / must equal the ServiceID index"
            )
        return self

    @property
    def service_instance_uuid(self) -> str:
        """The ServiceInstance UUID: configured, or a UUIDv5 of the ServiceID under the definition UUID."""
        return self.instance_uuid or str(uuid.uuid5(uuid.UUID(self.uuid), self.service_id))

    @property
    def service_index(self) -> int:
        match = SERVICE_ID_RE.fullmatch(self.service_id)
        assert match is not None  # validated above
        return int(match["index"])

    @property
    def required_loa_label(self) -> str:
        return self.required_loa.label


class SpConfig(_Section):
    """Our SAML service provider (the DV in eHerkenning terms)."""

    entity_id: str
    # Empty means: derived from public_base_url + "/saml/acs".
    acs_url: str = ""
    key_file: Path
    cert_file: Path
    next_cert_file: Path | None = None
    next_cert_activation: date | None = None

    @field_validator("entity_id")
    @classmethod
    def _entity_id(cls, value: str) -> str:
        if not ENTITY_ID_RE.fullmatch(value):
            raise ValueError("verwacht urn:etoegang:DV:<OIN>:entities:<0-9999> / expected that EntityID shape")
        return value

    @field_validator("acs_url")
    @classmethod
    def _acs(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("moet een http(s)-URL zijn / must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _next_cert_pair(self) -> SpConfig:
        if (self.next_cert_file is None) != (self.next_cert_activation is None):
            missing = "next_cert_activation" if self.next_cert_activation is None else "next_cert_file"
            raise ValueError(
                f"{missing}: next_cert_file en next_cert_activation horen bij elkaar / next_cert_file and "
                "next_cert_activation go together"
            )
        return self


# The embedded simulator's OIN (fake, in the test range): the HerkenningsmakelaarId of an embedded broker without
# an ``oin`` of its own, and the serial number in the simulator's certificates. It lives in the configuration
# so that neither the service (service_info) nor the simulator has to import the other.
SIMULATOR_OIN = "00000009999999999001"


class BrokerConfig(_Section):
    """A herkenningsmakelaar: the only party our SP talks SAML to."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]

    @field_validator("name")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean_text(value)

    # Exactly one source of metadata: the embedded simulator, a file or a URL.
    embedded: bool = False
    metadata_file: Path | None = None
    metadata_url: str | None = None
    ad_list_url: str | None = None
    soap_content_type: SoapContentType = "text/xml"
    # The certificate that must have signed the broker's metadata (and its AD list). Without it a
    # metadata_url is refused in production: trust on first use would let the network choose our broker.
    metadata_signing_cert_file: Path | None = None
    # The broker's OIN: the HerkenningsmakelaarId in our dienstencatalogus entry.
    oin: str | None = None
    # The back channel as brokers run it (diagnostics.broker_tls). Our TLS client certificate and its key, for
    # a broker whose ArtifactResolutionService asks for one; both or neither.
    tls_client_cert_file: Path | None = None
    tls_client_key_file: Path | None = None
    # The CA certificates (PEM) this broker's servers are checked against, for its metadata, AD list and ARS
    # alike: PKIoverheid private roots are in no public trust store. It replaces the public store for this broker.
    ca_bundle_file: Path | None = None

    @field_validator("oin")
    @classmethod
    def _oin(cls, value: str | None) -> str | None:
        if value is not None and not OIN_RE.fullmatch(value):
            raise ValueError("een OIN is precies 20 cijfers / an OIN is exactly 20 digits")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> BrokerConfig:
        sources = [self.embedded, self.metadata_file is not None, self.metadata_url is not None]
        if sum(sources) != 1:
            raise ValueError(
                "metadata: kies precies een van embedded, metadata_file, metadata_url / "
                "choose exactly one metadata source"
            )
        for field, url in (("metadata_url", self.metadata_url), ("ad_list_url", self.ad_list_url)):
            if url is not None and not re.fullmatch(r"https?://\S+", url):
                raise ValueError(f"{field}: geen http(s)-URL: {url!r} / not an http(s) URL")
        return self

    @model_validator(mode="after")
    def _tls_files(self) -> BrokerConfig:
        if (self.tls_client_cert_file is None) != (self.tls_client_key_file is None):
            missing = "tls_client_key_file" if self.tls_client_key_file is None else "tls_client_cert_file"
            raise ValueError(
                f"{missing}: tls_client_cert_file en tls_client_key_file horen bij elkaar / "
                "tls_client_cert_file and tls_client_key_file go together"
            )
        for field in ("tls_client_cert_file", "tls_client_key_file", "ca_bundle_file"):
            path: Path | None = getattr(self, field)
            if path is not None and not path.is_file():
                raise ValueError(f"{field}: bestand niet gevonden / file not found: {path}")
        return self

    @property
    def tls_client_cert(self) -> tuple[Path, Path] | None:
        """Our TLS client certificate and key for this broker's connections, when configured."""
        if self.tls_client_cert_file is None or self.tls_client_key_file is None:
            return None
        return self.tls_client_cert_file, self.tls_client_key_file


class SimulatorConfig(_Section):
    """The embedded eHerkenning broker simulator."""

    enabled: bool = True
    # Key and certificate are generated here on first run.
    key_dir: Path = Path("var/simulator")
    soap_content_type: SoapContentType = "text/xml"
    slow_delay_seconds: Annotated[float, Field(ge=0, le=60)] = 3.0
    # Other diensten (SPs) that may use the simulator as their test broker: a metadata file, or an http(s)
    # URL on this machine. Our own SP is always trusted and needs no entry.
    trusted_sp_metadata: tuple[str, ...] = ()

    @field_validator("trusted_sp_metadata")
    @classmethod
    def _sp_metadata_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        for source in sources:
            _clean_text(source)
            if not source:
                raise ValueError("lege bron / empty source")
            if "://" not in source:
                continue  # a file path
            parts = urlsplit(source)
            # Loopback only: the simulator reads these on every login and must never reach the internet.
            if parts.scheme not in ("http", "https") or not _is_loopback(parts.hostname):
                raise ValueError(
                    f"{source!r}: alleen een bestand of een http(s)-URL op deze machine (127.0.0.1, ::1, "
                    "localhost) / only a file or a loopback http(s) URL"
                )
        return sources


class RateLimitConfig(_Section):
    """Requests per client address per window on the costly or guessable routes; 0 switches a limit off."""

    window_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    roundtrip_start: Annotated[int, Field(ge=0, le=100_000)] = 10
    explain: Annotated[int, Field(ge=0, le=100_000)] = 20
    login: Annotated[int, Field(ge=0, le=100_000)] = 5
    feedback: Annotated[int, Field(ge=0, le=100_000)] = 30
    # Result pages and their JSON by reference code: enough for a user and a servicedesk colleague, too few to
    # try codes (a code has 40 bits; the limit is per address, and every lookup is logged).
    lookup: Annotated[int, Field(ge=0, le=100_000)] = 120
    # The simulator's login form: each submit may mint an artifact (one per AuthnRequest, see the router).
    simulator_login: Annotated[int, Field(ge=0, le=100_000)] = 60


class NoticeConfig(_Section):
    """Outages people can see: operator notices (``inloghulp notice``) and the automatic one (diagnostics.outage)."""

    # "Mogelijk een storing bij ..." once this many round trips with one broker end in a broker-side failure
    # within diagnostics.outage.WINDOW (15 minutes); it goes away when fewer do.
    outage_threshold: Annotated[int, Field(ge=1, le=100_000)] = 5


class Settings(BaseSettings):
    """Everything the service needs; see config/inloghulp.toml for an annotated example."""

    model_config = SettingsConfigDict(
        env_prefix="INLOGHULP_",
        env_nested_delimiter="__",
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
    )

    public_base_url: str = "http://127.0.0.1:8000"
    site_dir: Path = Path("site")
    database_url: str = "sqlite:///var/inloghulp.sqlite3"
    environment: Literal["development", "production"] = "development"
    session_secret: Annotated[str, Field(min_length=16)] = "development-only-secret-change-me"
    # A login that has not come back from the broker within this time becomes ``no-response``.
    no_response_timeout_seconds: Annotated[int, Field(ge=1, le=86400)] = 600
    # How long one ArtifactResolve may take; a check claimed longer ago than this plus a margin was cut off
    # (a worker died mid-resolve) and becomes ``interrupted``.
    resolve_timeout_seconds: Annotated[int, Field(ge=1, le=120)] = 15
    allowed_clock_skew_seconds: Annotated[int, Field(ge=0, le=600)] = 60
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    max_message_bytes: Annotated[int, Field(ge=1024, le=10_000_000)] = 512_000

    service: ServiceConfig
    sp: SpConfig
    brokers: Annotated[list[BrokerConfig], Field(min_length=1)]
    simulator: SimulatorConfig = SimulatorConfig()
    rate_limits: RateLimitConfig = RateLimitConfig()
    notices: NoticeConfig = NoticeConfig()

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+", value.rstrip("/")):
            raise ValueError("verwacht scheme://host[:port] zonder pad / expected scheme://host[:port]")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        ids = [broker.id for broker in self.brokers]
        if len(set(ids)) != len(ids):
            raise ValueError("brokers: elke id mag maar een keer voorkomen / broker ids must be unique")
        sp_match = ENTITY_ID_RE.fullmatch(self.sp.entity_id)
        if sp_match and sp_match["oin"] != self.service.provider_oin:
            raise ValueError("sp.entity_id: bevat een andere OIN dan service.provider_oin / OIN mismatch")
        if self.environment == "production" and self.session_secret.startswith("development-only"):
            raise ValueError("session_secret: zet een eigen geheim in productie / set a real secret in production")
        if self.environment == "production" and not self.acs_url.startswith("https://"):
            raise ValueError("sp.acs_url: gebruik https in productie / use https in production")
        if any(b.embedded for b in self.brokers) and not self.simulator.enabled:
            raise ValueError(
                "simulator.enabled: een broker is embedded maar de simulator staat uit / embedded broker needs simulator"
            )
        return self

    @property
    def served_over_https(self) -> bool:
        """True when the public address is https: cookies are then ``Secure`` and HSTS is sent. On plain-http
        loopback a Secure cookie would never come back."""
        return self.public_base_url.startswith("https://")

    @property
    def acs_url(self) -> str:
        return self.sp.acs_url or f"{self.public_base_url}/saml/acs"

    def broker(self, broker_id: str) -> BrokerConfig:
        for broker in self.brokers:
            if broker.id == broker_id:
                return broker
        raise KeyError(broker_id)

    def broker_metadata_url(self, broker: BrokerConfig) -> str | None:
        if broker.embedded:
            return f"{self.public_base_url}/simulator/metadata"
        return broker.metadata_url

    def broker_ad_list_url(self, broker: BrokerConfig) -> str | None:
        if broker.embedded:
            return f"{self.public_base_url}/simulator/listAD.xml"
        return broker.ad_list_url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get() or config_path()
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))


def config_path() -> Path:
    """The configuration file: ``$INLOGHULP_CONFIG`` or ``config/inloghulp.toml``."""
    return Path(os.environ.get("INLOGHULP_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings from ``path`` (or the default file), with environment overrides."""
    file = path or config_path()
    if not file.is_file():
        raise FileNotFoundError(f"configuratiebestand niet gevonden / configuration file not found: {file}")
    token = _config_file.set(file)
    try:
        return Settings()  # the required sections come from the TOML file
    finally:
        _config_file.reset(token)
