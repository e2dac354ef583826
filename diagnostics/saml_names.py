"""The fixed names of SAML and eHerkenning: XML namespaces, bindings, formats, status codes, attribute names.

Spelled once, for the service and the simulator alike (ARCHITECTURE.md, "Where each concept lives"). This
module imports nothing, so every layer may read it without an import contract caring. Algorithm
identifiers stay in ``crypto``, beside the allow-lists that judge them; the levels of assurance are
``loa.Loa``.
"""

from __future__ import annotations

# XML namespaces.
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
# The dienstencatalogus (Afsprakenstelsel eHerkenning 1.13).
ESC = "urn:etoegang:1.13:service-catalog"
# ``xml:lang`` as a qualified attribute name (the xml prefix is bound by definition).
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Bindings (SAML Bindings §3).
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
BINDING_SOAP = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"

# NameID formats, subject confirmation, attribute name format, and the prefix of every status code.
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ATTRNAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"

# eHerkenning's attributes in the assertion.
SERVICE_ID = "urn:etoegang:core:ServiceID"
SERVICE_UUID = "urn:etoegang:core:ServiceUUID"
LEGAL_SUBJECT = "urn:etoegang:core:LegalSubjectID"
ACTING_SUBJECT = "urn:etoegang:core:ActingSubjectID"

# eHerkenning's identifier kinds (EntityConcernedID): NameID formats and the identifiers' qualifiers.
KVK_NUMBER = "urn:etoegang:1.9:EntityConcernedID:KvKnr"
RSIN = "urn:etoegang:1.9:EntityConcernedID:RSIN"
PSEUDONYM = "urn:etoegang:1.9:EntityConcernedID:Pseudo"
