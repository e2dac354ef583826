"""The crypto floor: the bare RSA and AES operations a piece of work cannot do without.

Each operation runs with ``cryptography`` on a key the server uses, on data of the size it really
handles (a SignedInfo of ~600 bytes, a 32-byte AES session key, an EncryptedID's NameID). Everything
a server adds around them (XML, canonicalisation, digests, HTTP, the database) is what ``bench.acs``
and ``bench.load`` print as a multiple of this floor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# What XML-DSig signs with RSA: the canonical SignedInfo (its digest of the element is not RSA work).
SIGNED_INFO = b"<ds:SignedInfo>" + b"x" * 600 + b"</ds:SignedInfo>"
# eHerkenning's EncryptedID: RSA-OAEP (MGF1-SHA1) around a 256-bit key, AES-256-CBC around the NameID.
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
NAME_ID = (
    b'<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
    b'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" '
    b'NameQualifier="urn:etoegang:1.9:EntityConcernedID:KvKnr">12345678</saml:NameID>'
)


@dataclass(frozen=True)
class Operation:
    """``count`` runs of one bare operation: ``kind`` is sign, verify, oaep-encrypt, oaep-decrypt,
    aes-encrypt or aes-decrypt; ``what`` says which for a person."""

    kind: str
    what: str
    count: int
    run: Callable[[], object]


def private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SystemExit("the floor needs RSA keys")
    return key


def sign(key: rsa.RSAPrivateKey) -> Callable[[], object]:
    """An RSA-SHA256 (PKCS#1 v1.5) signature with ``key``."""
    return lambda: key.sign(SIGNED_INFO, padding.PKCS1v15(), hashes.SHA256())


def verify(signer: rsa.RSAPrivateKey) -> Callable[[], object]:
    """Verifying a signature of ``signer`` with its public key (what the other side has)."""
    signature = signer.sign(SIGNED_INFO, padding.PKCS1v15(), hashes.SHA256())
    public = signer.public_key()
    return lambda: public.verify(signature, SIGNED_INFO, padding.PKCS1v15(), hashes.SHA256())


def oaep_encrypt(recipient: rsa.RSAPrivateKey) -> Callable[[], object]:
    """Wrapping a session key for ``recipient`` (with its public key)."""
    public = recipient.public_key()
    session_key = os.urandom(32)
    return lambda: public.encrypt(session_key, OAEP)


def oaep_decrypt(key: rsa.RSAPrivateKey) -> Callable[[], object]:
    """Unwrapping a session key wrapped for ``key``."""
    wrapped = key.public_key().encrypt(os.urandom(32), OAEP)
    return lambda: key.decrypt(wrapped, OAEP)


def _padded(data: bytes) -> bytes:
    pad = 16 - len(data) % 16
    return data + bytes([pad]) * pad


def aes_cbc_encrypt() -> Callable[[], object]:
    """AES-256-CBC over an EncryptedID's NameID."""
    key, iv, plaintext = os.urandom(32), os.urandom(16), _padded(NAME_ID)

    def run() -> bytes:
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return encryptor.update(plaintext) + encryptor.finalize()

    return run


def aes_cbc_decrypt() -> Callable[[], object]:
    """The reverse of :func:`aes_cbc_encrypt`."""
    key, iv = os.urandom(32), os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(_padded(NAME_ID)) + encryptor.finalize()

    def run() -> bytes:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()

    return run


def once(operations: Sequence[Operation]) -> Callable[[], None]:
    """One call runs every operation its ``count`` times."""

    def run_all() -> None:
        for operation in operations:
            for _ in range(operation.count):
                operation.run()

    return run_all


def round_trip(
    sp: rsa.RSAPrivateKey,
    broker: rsa.RSAPrivateKey,
    mr: rsa.RSAPrivateKey,
    supplier: rsa.RSAPrivateKey,
    *,
    encrypted_ids: int = 2,
) -> list[Operation]:
    """What one successful round trip against the embedded simulator needs, both sides together.

    Counted from the code path (and checked by instrumenting one trip): our AuthnRequest (HTTP-Redirect
    signature), the simulator verifying it, signing the AD's and the MR's advice assertions, the
    assertion and the ArtifactResponse, encrypting LegalSubjectID and ActingSubjectID for our
    certificate; our signed ArtifactResolve and the simulator verifying it; our checker verifying the
    ArtifactResponse and the assertion and decrypting both EncryptedIDs. Not counted, because a round
    trip does not need them: signing or verifying metadata, loading keys, TLS.
    """
    return [
        Operation("sign", "AuthnRequest (SP key)", 1, sign(sp)),
        Operation("verify", "AuthnRequest (simulator)", 1, verify(sp)),
        Operation("sign", "AD advice assertion (supplier key)", 1, sign(supplier)),
        Operation("sign", "MR advice assertion (MR key)", 1, sign(mr)),
        Operation("sign", "assertion and ArtifactResponse (broker key)", 2, sign(broker)),
        Operation("oaep-encrypt", "EncryptedID session keys (simulator)", encrypted_ids, oaep_encrypt(sp)),
        Operation("aes-encrypt", "EncryptedIDs (simulator)", encrypted_ids, aes_cbc_encrypt()),
        Operation("sign", "ArtifactResolve (SP key)", 1, sign(sp)),
        Operation("verify", "ArtifactResolve (simulator)", 1, verify(sp)),
        Operation("verify", "ArtifactResponse and assertion (checker)", 2, verify(broker)),
        Operation("oaep-decrypt", "EncryptedID session keys (checker)", encrypted_ids, oaep_decrypt(sp)),
        Operation("aes-decrypt", "EncryptedIDs (checker)", encrypted_ids, aes_cbc_decrypt()),
    ]
