"""One error base: every failure with a stable id carries it as ``diagnosis`` and its Dutch text as ``message``."""

from __future__ import annotations

import pytest

from diagnostics import crypto, xmlsafe
from diagnostics.brokers import BrokerError
from diagnostics.problems import Problem
from diagnostics.roundtrip import ChoiceError, StartError
from diagnostics.saml.artifact import ArtifactError
from diagnostics.saml.authn import RedirectSignatureError
from diagnostics.saml.inputs import InputError
from diagnostics.simulator.requests import RequestRefused

PROBLEMS = [
    crypto.CryptoError("bad-signature", "De handtekening klopt niet."),
    crypto.SignatureError("unsigned", "Er is geen handtekening."),
    xmlsafe.UnsafeXmlError("malformed", "Het bericht is leeg."),
    InputError("too-large", "Het bestand is te groot."),
    ArtifactError("artifact-resolve-failed", "De makelaar antwoordt niet."),
    RedirectSignatureError("weak-algorithm", "Het verzoek is niet met RSA-SHA256 ondertekend."),
    BrokerError("broker-unreachable", "De makelaar is niet bereikbaar."),
    StartError("config-error", "Deze makelaar is niet ingesteld."),
    RequestRefused("sim-request-unsigned", "Het inlogverzoek is niet ondertekend."),
]


@pytest.mark.parametrize("problem", PROBLEMS, ids=[type(p).__name__ for p in PROBLEMS])
def test_each_problem_carries_diagnosis_and_message(problem: Problem) -> None:
    assert isinstance(problem, Problem)
    assert problem.diagnosis and problem.message == str(problem)


def test_the_specialised_problems_fix_their_diagnosis() -> None:
    decryption = crypto.DecryptionError("De sleutel past niet.")
    choice = ChoiceError("Kies een eHerkenningsmakelaar.")
    assert (decryption.diagnosis, decryption.message) == ("decryption-failed", "De sleutel past niet.")
    assert (choice.diagnosis, choice.message) == ("config-error", "Kies een eHerkenningsmakelaar.")


def test_a_redirect_signature_error_is_still_a_value_error() -> None:
    assert isinstance(RedirectSignatureError("unsigned", "Geen handtekening."), ValueError)
