"""The SAML service provider side: metadata, AuthnRequest, artifact resolution."""
