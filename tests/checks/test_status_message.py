"""An AuthnFailed StatusMessage names a cause only when it plainly says one: cancel, or a wrong password or code."""

from __future__ import annotations

import pytest

from diagnostics.checks.status_message import authn_failed_cause

CANCELLED = (
    "The user cancelled.",
    "User canceled the login",
    "Authentication cancelled by user",
    "Login aborted by user",
    "Cancellation by the user",
    "Gebruiker heeft geannuleerd",
    "De gebruiker annuleerde het inloggen.",
    "Het inloggen is afgebroken door de gebruiker.",
    "Inloggen geännuleerd",
    "Geannuleerd. Geen machtiging gevonden.",
)
WRONG_CREDENTIALS = (
    "Authentication failed: wrong credentials.",
    "Invalid username or password",
    "Incorrect password",
    "Bad credentials",
    "Wrong OTP",
    "The SMS code is incorrect",
    "Password not recognised",
    "Onjuiste gebruikersnaam of wachtwoord",
    "Het wachtwoord klopt niet",
    "De ingevoerde sms-code is onjuist.",
    "Verkeerde code",
    "Ongeldige inloggegevens",
    "User didn't cancel, password incorrect",
)
UNCLEAR = (
    "",
    "Authentication failed",
    "Inloggen mislukt",
    "Login failed",
    "User not authenticated",
    # negations
    "User did not cancel",
    "The user didn\u2019t cancel",
    "Niet geannuleerd",
    "Het wachtwoord was niet fout",
    "The password was not wrong",
    # both causes at once
    "User cancelled after a wrong password",
    "Cancelled; wrong password",
    "Geannuleerd na een verkeerde code",
    # codes that are not what the user typed
    "Invalid status code",
    "Error code 17: invalid request",
    # a reason that is neither
    "Too many attempts",
)


@pytest.mark.parametrize("message", CANCELLED)
def test_a_clear_cancel_is_cancelled(message: str) -> None:
    assert authn_failed_cause(message) == "cancelled"


@pytest.mark.parametrize("message", WRONG_CREDENTIALS)
def test_a_clear_wrong_password_or_code_is_auth_failed(message: str) -> None:
    assert authn_failed_cause(message) == "auth-failed"


@pytest.mark.parametrize("message", UNCLEAR)
def test_no_message_a_vague_negated_or_mixed_one_claims_no_cause(message: str) -> None:
    assert authn_failed_cause(message) == "stopped-at-broker"


def test_a_huge_message_is_read_only_in_part() -> None:
    # The cancel word lies beyond what is read: no claim from text nobody would see.
    assert authn_failed_cause("x " * 5000 + "cancelled") == "stopped-at-broker"
