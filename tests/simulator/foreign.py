"""Another dienst (SP) with its own key, entity id, ACS and service: for the simulator as everybody's test broker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diagnostics import certs
from diagnostics.settings import Settings

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
OIN = "00000009999999999123"


@dataclass(frozen=True)
class ForeignSp:
    entity_id: str
    acs_url: str
    service_id: str
    service_index: int
    pair: certs.KeyPair

    @property
    def signing_key(self) -> certs.SigningKey:
        return certs.SigningKey.from_pair(self.pair)

    def settings(self, ours: Settings) -> Settings:
        """``ours`` with this dienst's identity, so the service's own builders speak for it."""
        return ours.model_copy(
            update={
                "sp": ours.sp.model_copy(update={"entity_id": self.entity_id, "acs_url": self.acs_url}),
                "service": ours.service.model_copy(
                    update={
                        "service_id": self.service_id,
                        "attribute_consuming_service_index": self.service_index,
                        "provider_oin": OIN,
                    }
                ),
            }
        )

    def metadata(self, *, extra_acs: str = "") -> str:
        """Its SP metadata, written by hand the way the eHerkenning DV rules describe it."""
        der = certs.der_base64(self.pair.cert)
        name = certs.fingerprint_sha256(self.pair.cert)
        keys = "".join(
            f'<md:KeyDescriptor use="{use}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
            f"<ds:KeyName>{name}</ds:KeyName><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate>"
            "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            for use in ("signing", "encryption")
        )
        return (
            f'<md:EntityDescriptor xmlns:md="{MD}" entityID="{self.entity_id}">'
            '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" '
            'AuthnRequestsSigned="true" WantAssertionsSigned="true">'
            f"{keys}"
            f'<md:AssertionConsumerService Binding="{POST}" Location="{self.acs_url}/post" index="0"/>'
            f'<md:AssertionConsumerService Binding="{ARTIFACT}" Location="{self.acs_url}" index="1" isDefault="true"/>'
            f"{extra_acs}"
            f'<md:AttributeConsumingService index="{self.service_index}" isDefault="true">'
            '<md:ServiceName xml:lang="nl">Andere dienst (test)</md:ServiceName>'
            f'<md:RequestedAttribute Name="{self.service_id}"/>'
            "</md:AttributeConsumingService></md:SPSSODescriptor></md:EntityDescriptor>"
        )

    def write_metadata(self, directory: Path, **kwargs: str) -> Path:
        path = directory / f"sp-{self.service_index}.xml"
        path.write_text(self.metadata(**kwargs), encoding="utf-8")
        return path


def foreign_sp(index: int = 9002, acs_url: str = "https://andere-dienst.example/saml/acs") -> ForeignSp:
    return ForeignSp(
        entity_id=f"urn:etoegang:DV:{OIN}:entities:{index}",
        acs_url=acs_url,
        service_id=f"urn:etoegang:DV:{OIN}:services:{index + 1}",
        service_index=index + 1,
        pair=certs.generate(f"Andere dienst {index} (test)", serial_number=OIN),
    )
