"""What the eHerkenningsbeheerder must enter for the machtiging, taken from the settings in one place.

The beheerder card (static page and service), ``GET /api/v1/service-info``, the SP metadata and the
dienstencatalogus fragment all read their values through :func:`service_info`, so they cannot disagree.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, computed_field

from diagnostics.settings import SIMULATOR_OIN, BrokerConfig, Settings

EXAMPLE_LABEL = "voorbeeldwaarde"


def steps(level_label: str) -> list[str]:
    """What the eHerkenningsbeheerder does, in order (record first, then set it technically)."""
    return [
        "Leg de machtiging voor deze dienst vast in het machtigingen- of mandaatregister van uw organisatie.",
        "Zet de machtiging daarna aan in het beheerdashboard van uw eHerkenningsmakelaar. "
        "Zoek de dienst op de naam van de dienstverlener en de dienst, of op de ServiceUUID.",
        f"Kies als niveau minimaal {level_label}. Een hoger niveau mag ook.",
        "Vraag de medewerker daarna om opnieuw in te loggen.",
    ]


class BrokerInfo(BaseModel):
    """A herkenningsmakelaar the service is connected to."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stabiele id uit de configuratie.")
    name: str = Field(description="Naam van de herkenningsmakelaar.")
    oin: str | None = Field(description="OIN van de herkenningsmakelaar (HerkenningsmakelaarId), als bekend.")


class CardField(BaseModel):
    """One value on the beheerder card: what it is called, the exact value, and its copy-button id."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Stabiele sleutel, gelijk aan het veld in ServiceInfo.")
    label: str = Field(description="Nederlandse naam van het gegeven.")
    value: str = Field(description="De exacte waarde die de beheerder invult.")
    example: bool = Field(description="True als dit een voorbeeldwaarde is.")


class ServiceInfo(BaseModel):
    """Everything the eHerkenningsbeheerder needs, plus the SAML values derived from the same config."""

    model_config = ConfigDict(frozen=True)

    provider_name: str = Field(description="Naam van de dienstverlener (OrganizationDisplayName).")
    provider_oin: str = Field(description="OIN van de dienstverlener (20 cijfers).")
    service_name: str = Field(description="Naam van de dienst in de dienstencatalogus.")
    service_description: str = Field(description="Omschrijving van de dienst.")
    service_name_en: str = Field(description="Engelse naam van de dienst.")
    service_description_en: str = Field(description="Engelse omschrijving van de dienst.")
    service_uuid: str = Field(description="ServiceUUID: de sleutel waarop de machtiging wordt vastgelegd.")
    service_instance_uuid: str = Field(description="ServiceUUID van de ServiceInstance in de dienstencatalogus.")
    service_id: str = Field(description="ServiceID: urn:etoegang:DV:<OIN>:services:<index>.")
    entity_id: str = Field(description="EntityID van onze SAML service provider.")
    acs_url: str = Field(description="AssertionConsumerService-URL (HTTP-Artifact).")
    attribute_consuming_service_index: int = Field(description="AttributeConsumingServiceIndex van de dienst.")
    required_loa: str = Field(description="Minimaal betrouwbaarheidsniveau als URN.")
    required_loa_label: str = Field(
        description='Minimaal betrouwbaarheidsniveau, bijvoorbeeld "eHerkenning niveau 2+".'
    )
    brokers: list[BrokerInfo] = Field(description="Herkenningsmakelaars waarmee de dienst is verbonden.")
    example_values: bool = Field(description="True: de waarden zijn voorbeeldwaarden, geen echte gegevens.")
    steps: list[str] = Field(description="Stappen voor de eHerkenningsbeheerder.")

    @computed_field(description="De waarden op de kaart, in volgorde, met hun Nederlandse naam.")  # type: ignore[prop-decorator]
    @property
    def card(self) -> list[CardField]:
        return self.card_fields()

    @computed_field(description='Alle gegevens als platte tekst ("Kopieer alles").')  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        return self.as_text()

    @computed_field(description="mailto-link met onderwerp en alle gegevens.")  # type: ignore[prop-decorator]
    @property
    def mailto(self) -> str:
        return self.mailto_href()

    def card_fields(self) -> list[CardField]:
        """The values on the card, in card order; the same list feeds the text block and the e-mail."""
        from_config = (
            ("provider_name", "Dienstverlener", self.provider_name),
            ("provider_oin", "OIN van de dienstverlener", self.provider_oin),
            ("service_name", "Dienst", self.service_name),
            ("service_description", "Omschrijving", self.service_description),
            ("service_uuid", "ServiceUUID", self.service_uuid),
            ("service_id", "ServiceID", self.service_id),
        )
        # A value that already says "voorbeeld" is its own marker: "(voorbeeld) (voorbeeldwaarde)" says it twice.
        return [
            *(
                CardField(
                    key=key, label=label, value=value, example=self.example_values and "voorbeeld" not in value.lower()
                )
                for key, label, value in from_config
            ),
            CardField(key="required_loa_label", label="Minimaal niveau", value=self.required_loa_label, example=False),
            CardField(key="required_loa", label="Niveau (URN)", value=self.required_loa, example=False),
            CardField(key="brokers", label="Herkenningsmakelaar", value=self.broker_names, example=False),
        ]

    @property
    def broker_names(self) -> str:
        return ", ".join(broker.name for broker in self.brokers)

    def as_text(self) -> str:
        """Plain text for "Kopieer alles" and the e-mail body: one "label: value" line per field."""
        lines = ["Gegevens voor de eHerkenning-machtiging voor het Bronhouderportaal"]
        if self.example_values:
            lines.append("Let op: dit zijn voorbeeldwaarden, geen echte gegevens.")
        lines.append("")
        for field in self.card_fields():
            suffix = f" ({EXAMPLE_LABEL})" if field.example else ""
            lines.append(f"{field.label}: {field.value}{suffix}")
        lines += ["", "Stappen:"]
        lines += [f"{number}. {step}" for number, step in enumerate(self.steps, start=1)]
        return "\n".join(lines)

    def mailto_href(self) -> str:
        """A ``mailto:`` link with a Dutch subject and every value in the body (works without JavaScript)."""
        subject = "Graag een eHerkenning-machtiging voor het Bronhouderportaal"
        body = (
            "Beste eHerkenningsbeheerder,\n\n"
            "Ik kan niet inloggen in het Bronhouderportaal met eHerkenning. "
            "Wilt u de machtiging voor mij instellen? Hieronder staan de gegevens.\n\n"
            f"{self.as_text()}\n\nMet vriendelijke groet,\n"
        )
        return f"mailto:?subject={quote(subject)}&body={quote(body)}"


def _broker_oin(broker: BrokerConfig) -> str | None:
    if broker.oin is None and broker.embedded:
        return SIMULATOR_OIN
    return broker.oin


def service_info(settings: Settings) -> ServiceInfo:
    """The one place where settings become the values the beheerder and the SAML partners see."""
    service = settings.service
    return ServiceInfo(
        provider_name=service.provider_name,
        provider_oin=service.provider_oin,
        service_name=service.name,
        service_description=service.description,
        service_name_en=service.name_en or service.name,
        service_description_en=service.description_en or service.description,
        service_uuid=service.uuid,
        service_instance_uuid=service.service_instance_uuid,
        service_id=service.service_id,
        entity_id=settings.sp.entity_id,
        acs_url=settings.acs_url,
        attribute_consuming_service_index=service.attribute_consuming_service_index,
        required_loa=service.required_loa,
        required_loa_label=service.required_loa_label,
        brokers=[BrokerInfo(id=broker.id, name=broker.name, oin=_broker_oin(broker)) for broker in settings.brokers],
        example_values=service.example_values,
        steps=steps(service.required_loa_label),
    )
