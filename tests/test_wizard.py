"""The wizard data: both methods, the user's words, every path ends in a catalogue entry."""

from __future__ import annotations

import json
import re
from html import unescape

from diagnostics import wizard
from diagnostics.catalogue import load_catalogue
from diagnostics.catalogue_site import wizard_html

PAGE_URL = "http://127.0.0.1:8000/inloggen-lukt-niet/"


def test_both_methods_are_offered() -> None:
    assert [method.id for method in wizard.METHODS] == ["eherkenning", "email"]


def test_every_symptom_ends_in_a_catalogue_entry() -> None:
    catalogue = load_catalogue()
    for method in wizard.METHODS:
        for symptom in method.symptoms:
            assert symptom.entry in catalogue, symptom


def test_symptom_ids_are_unique() -> None:
    ids = [symptom.id for method in wizard.METHODS for symptom in method.symptoms]
    assert len(ids) == len(set(ids))


def test_symptoms_are_in_the_users_words() -> None:
    labels = {symptom.label: symptom.entry for method in wizard.METHODS for symptom in method.symptoms}
    assert labels["De eerste keer lukt het nooit"] == "no-authorisation"
    assert labels["Melding over machtiging bij de eHerkenningsmakelaar"] == "no-authorisation"
    assert labels["Ik krijg geen sms-code"] == "no-sms-code"
    assert labels["Ik kom binnen namens de verkeerde organisatie"] == "wrong-organisation"
    assert labels["Melding: niveau te laag"] == "loa-too-low"
    assert labels["Ik kom terug in het portaal met een foutmelding"] == "portal-problem"
    assert labels["Mijn e-mailadres wordt niet geaccepteerd"] == "email-not-business"
    assert labels["Wachtwoord vergeten"] == "email-password-forgotten"
    assert labels["Account geblokkeerd"] == "email-locked"


def test_plain_html_links_every_symptom_and_carries_safe_json() -> None:
    html = wizard_html(load_catalogue(), PAGE_URL)
    for method in wizard.METHODS:
        for symptom in method.symptoms:
            assert f'href="#{symptom.entry}" data-symptom="{symptom.id}"' in html
    # In an attribute, not a <script> data block: instant navigation re-creates scripts without their type.
    assert "<script" not in html
    match = re.search(r'data-ih-wizard-data="([^"]*)"', html)
    assert match
    data = json.loads(unescape(match[1]))
    assert set(data["entries"]) == wizard.targets()
    # A beheerder-acts entry carries the message text; a medewerker-acts one does not.
    assert data["entries"]["no-authorisation"]["mail"] is not None
    assert data["entries"]["email-password-forgotten"]["mail"] is None
