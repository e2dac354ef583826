"""Our SP's signing key as the app's composition root would hand it to the SAML layer."""

from __future__ import annotations

from diagnostics.certs import KeyFiles, SigningKey
from diagnostics.settings import Settings


def sp_signing_key(settings: Settings) -> SigningKey:
    return KeyFiles(settings.sp.key_file, settings.sp.cert_file).current()
