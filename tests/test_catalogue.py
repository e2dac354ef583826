"""The failure catalogue: the shipped file is complete, and broken catalogues are refused clearly."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from diagnostics import wizard
from diagnostics.catalogue import (
    CATALOGUE_FILE,
    FIRST_PERSON,
    FORBIDDEN_WORDS,
    INDEX_IDS,
    REQUIRED_IDS,
    CatalogueError,
    load_catalogue,
    parse_catalogue,
    read_catalogue,
    site_path,
)
from diagnostics.verdict import Diagnosis

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT.parent / "shared" / "design" / "ARCHITECTURE.md"


@pytest.fixture
def raw() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def test_every_required_id_has_an_entry() -> None:
    catalogue = load_catalogue()
    assert set(REQUIRED_IDS) <= set(catalogue.ids)


def test_required_ids_match_the_architecture_vocabulary() -> None:
    if not ARCHITECTURE.is_file():
        pytest.skip("../shared is not available")
    text = ARCHITECTURE.read_text(encoding="utf-8")
    vocabulary = text.split("The\nvocabulary:", 1)[1].split("Add ids", 1)[0]
    # An id may carry a note in brackets: "stopped-at-broker (Responder/AuthnFailed that does not say why: ...)".
    vocabulary = re.sub(r"\([^)]*\)", "", vocabulary)
    ids = {word.strip(" .\n") for word in vocabulary.replace("\n", " ").split(",")}
    assert "stopped-at-broker" in ids
    # "Add ids when needed": the code may know more ids than that list, never fewer.
    assert ids <= set(REQUIRED_IDS)


def test_email_and_symptom_entries_exist() -> None:
    catalogue = load_catalogue()
    for entry_id in (
        "email-not-business",
        "email-no-account",
        "email-password-forgotten",
        "email-locked",
        "beheerder-needs-eherkenning",
        "no-eherkenning",
        "machtiging-expired",
        "wrong-organisation",
        "no-sms-code",
        "portal-problem",
    ):
        assert entry_id in catalogue


def test_diagnosis_uses_the_medewerker_step_as_advice() -> None:
    catalogue = load_catalogue()
    diagnosis = catalogue.diagnosis("loa-too-low")
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.who == "eHerkenningsbeheerder"
    assert diagnosis.advice == catalogue.entry("loa-too-low").steps.medewerker
    assert "2+" in diagnosis.advice


def test_unknown_id_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no-such-thing"):
        load_catalogue().entry("no-such-thing")


def test_every_entry_is_a_diagnosis_a_wizard_target_or_in_the_index() -> None:
    catalogue = load_catalogue()
    reachable = set(REQUIRED_IDS) | wizard.targets() | set(INDEX_IDS)
    assert set(catalogue.ids) <= reachable


def test_texts_follow_the_writing_rules() -> None:
    for entry in load_catalogue().entries:
        texts = [entry.title, entry.seen, entry.cause, entry.reply, *entry.steps.model_dump().values()]
        for text in texts:
            for word in FORBIDDEN_WORDS:
                assert word not in text.lower(), (entry.id, word)
            assert " je " not in f" {text.lower()} ", (entry.id, "use 'u', not 'je'")
        assert "BRO Servicedesk" in entry.reply


def test_links_point_to_existing_anchors_and_pages() -> None:
    read_catalogue(docs_dir=ROOT / "docs")  # raises when a page or anchor is missing


def test_missing_role_text_fails(raw: list[dict[str, Any]]) -> None:
    del raw[0]["steps"]["beheerder"]
    with pytest.raises(CatalogueError, match=r"no-authorisation: steps\.beheerder: ontbreekt"):
        parse_catalogue(raw)


def test_empty_role_text_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["steps"]["servicedesk"] = ""
    with pytest.raises(CatalogueError, match=r"steps\.servicedesk"):
        parse_catalogue(raw)


def test_unknown_who_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["who"] = "helpdesk"
    with pytest.raises(CatalogueError, match=r"no-authorisation: who"):
        parse_catalogue(raw)


def test_duplicate_id_fails(raw: list[dict[str, Any]]) -> None:
    raw.append(copy.deepcopy(raw[0]))
    with pytest.raises(CatalogueError, match="no-authorisation: id komt twee keer voor"):
        parse_catalogue(raw)


def test_missing_required_id_fails(raw: list[dict[str, Any]]) -> None:
    without = [entry for entry in raw if entry["id"] != "replay"]
    with pytest.raises(CatalogueError, match="replay: diagnose-id zonder item"):
        parse_catalogue(without)


def test_unreachable_entry_fails(raw: list[dict[str, Any]]) -> None:
    extra = copy.deepcopy(raw[0])
    extra["id"] = "orphan-entry"
    raw.append(extra)
    with pytest.raises(CatalogueError, match="orphan-entry: niet bereikbaar"):
        parse_catalogue(raw)


def test_unknown_link_anchor_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["links"] = ["inloggen-lukt-niet.md#does-not-exist"]
    with pytest.raises(CatalogueError, match="onbekend item"):
        parse_catalogue(raw)


def test_unknown_link_page_fails(raw: list[dict[str, Any]], tmp_path: Path) -> None:
    raw[0]["links"] = ["nergens.md#iets"]
    with pytest.raises(CatalogueError, match="pagina bestaat niet"):
        parse_catalogue(raw, docs_dir=tmp_path)


def test_link_that_is_not_a_docs_path_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["links"] = ["https://example.org/"]
    with pytest.raises(CatalogueError, match="geen pad"):
        parse_catalogue(raw)


def test_unknown_field_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["colour"] = "red"
    with pytest.raises(CatalogueError, match="colour"):
        parse_catalogue(raw)


def test_forbidden_word_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["cause"] = "Uw machtiging is ongeldig geworden door de makelaar."
    with pytest.raises(CatalogueError, match="ongeldig"):
        parse_catalogue(raw)


def test_no_entry_links_to_itself() -> None:
    for entry in load_catalogue().entries:
        own = f"inloggen-lukt-niet.md#{entry.id}"
        assert own not in entry.links, entry.id
        assert own not in {inline.link for inline in entry.inline_links}, entry.id


def test_a_link_to_the_entry_itself_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["links"] = [f"inloggen-lukt-niet.md#{raw[0]['id']}"]
    with pytest.raises(CatalogueError, match="wijst naar het item zelf"):
        parse_catalogue(raw)


def test_texts_speak_to_the_reader_not_as_the_reader() -> None:
    # A result page heads "Inloggen is niet gelukt: <title>"; a title in the user's own voice mixes two voices.
    for entry in load_catalogue().entries:
        texts = [entry.title, entry.seen, entry.cause, entry.reply, *entry.steps.model_dump().values()]
        for text in texts:
            assert not FIRST_PERSON.search(text), (entry.id, text)


def test_a_title_in_the_first_person_fails(raw: list[dict[str, Any]]) -> None:
    raw[0]["title"] = "Ik kom niet terug in het Bronhouderportaal"
    with pytest.raises(CatalogueError, match="spreekt als de gebruiker"):
        parse_catalogue(raw)


def test_a_locked_e_mail_account_names_no_waiting_time_without_a_source() -> None:
    # Neither the BRO help page nor our reference gives a time after which a locked account opens again.
    entry = load_catalogue().entry("email-locked")
    texts = [entry.seen, entry.cause, entry.reply, *entry.steps.model_dump().values()]
    for text in texts:
        assert not re.search(r"kwartier|minuut|minuten|\buur\b|\bwacht\b", text, re.IGNORECASE), text
    assert "Wachtwoord vergeten?" in entry.steps.medewerker


@pytest.mark.parametrize(
    ("entry_id", "who"),
    [("stopped-at-broker", "medewerker"), ("metadata-unsigned", "beheer"), ("interrupted", "beheer")],
)
def test_new_diagnoses_have_entries(entry_id: str, who: str) -> None:
    entry = load_catalogue().entry(entry_id)
    assert entry.who == who
    assert entry_id in REQUIRED_IDS


def test_stopped_at_broker_claims_no_cause_and_names_each_possible_one() -> None:
    entry = load_catalogue().entry("stopped-at-broker")
    assert "zei niet waarom" in entry.cause
    for cause in ("Annuleren", "wachtwoord of code", "machtiging"):
        assert cause in entry.cause and cause in entry.steps.medewerker and cause in entry.reply
    assert {"inloggen-lukt-niet.md#cancelled", "inloggen-lukt-niet.md#auth-failed"} <= set(entry.links)


def test_unsigned_broker_metadata_is_not_explained_as_an_unsigned_login_answer() -> None:
    catalogue = load_catalogue()
    metadata, answer = catalogue.entry("metadata-unsigned"), catalogue.entry("unsigned")
    assert "inlogantwoord" in answer.cause and "inlogantwoord" not in metadata.cause
    assert metadata.reply != answer.reply
    assert "metadata" in metadata.steps.servicedesk


def test_not_a_list_fails() -> None:
    with pytest.raises(CatalogueError, match="lijst"):
        parse_catalogue({"id": "x"})


def test_unreadable_yaml_fails(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="geen leesbare YAML"):
        read_catalogue(path)


def _diagnosis_ids_in_code() -> dict[str, str]:
    """Every literal diagnosis id the package passes around, with where it was found."""
    import ast

    found: dict[str, str] = {}
    for path in sorted((ROOT / "diagnostics").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            candidates: list[ast.expr] = []
            if name.endswith("Error") and node.args:
                candidates.append(node.args[0])
            if name == "_result" and len(node.args) >= 4:
                candidates.append(node.args[3])
            if name in {"AnswerOption", "_failed"} and node.args:
                candidates.append(node.args[-1])
            candidates += [kw.value for kw in node.keywords if kw.arg in {"diagnosis", "diagnosis_id"}]
            for value in candidates:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    if re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", value.value):
                        found[value.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_diagnosis_id_used_in_code_has_an_entry() -> None:
    found = _diagnosis_ids_in_code()
    assert len(found) >= 10  # the scan sees the checker, the brokers and the round trip
    catalogue = load_catalogue()
    unknown = {value: where for value, where in found.items() if value not in catalogue}
    assert unknown == {}


def test_texts_use_the_sites_wording() -> None:
    """'u hebt', not 'u heeft'; 'beheerdashboard' as in docs/begrippen.md, not 'beheermodule'."""
    for entry in load_catalogue().entries:
        texts = [entry.title, entry.seen, entry.cause, entry.reply, *entry.steps.model_dump().values()]
        for text in texts:
            assert not re.search(r"\b(u heeft|heeft u|beheermodule)\b", text, re.IGNORECASE), (entry.id, text)


def test_other_wording_is_refused_with_the_preferred_words(raw: list[dict[str, Any]]) -> None:
    raw[0]["cause"] = "U heeft nog geen machtiging in de beheermodule."
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    assert "schrijf 'u hebt', niet 'U heeft'" in str(caught.value)
    assert "schrijf 'beheerdashboard', niet 'beheermodule'" in str(caught.value)


def test_who_detail_follows_the_writing_rules_and_plain_texts_hold_no_links(raw: list[dict[str, Any]]) -> None:
    raw[0]["who_detail"] = "uw eHerkenningsbeheerder, als u heeft gewacht"
    with pytest.raises(CatalogueError, match="schrijf 'u hebt'"):
        parse_catalogue(raw)
    del raw[0]["who_detail"]
    raw[0]["reply"] = raw[0]["reply"] + " Zie de [pagina voor eHerkenningsbeheerders](beheerder.md)."
    with pytest.raises(CatalogueError, match="link"):
        parse_catalogue(raw)


def test_beheerder_role_and_the_beheerder_step_agree(raw: list[dict[str, Any]]) -> None:
    first = raw[0]
    assert first["beheerder_role"] == "eHerkenningsbeheerder"
    del first["beheerder_role"]
    with pytest.raises(CatalogueError, match=f"{first['id']}: beheerder_role"):
        parse_catalogue(raw)
    first["beheerder_role"] = "gebruikersbeheerder"
    first["steps"]["beheerder"] = "U hoeft niets te doen."
    with pytest.raises(CatalogueError, match=f"{first['id']}: beheerder_role"):
        parse_catalogue(raw)


def test_sms_code_names_both_roles_each_for_its_own_case() -> None:
    """Wrong or old number: the eHerkenningsbeheerder. Right number, or (re)activation: the eHerkenningsmakelaar."""
    entry = load_catalogue().entry("no-sms-code")
    assert entry.who == "eHerkenningsbeheerder"  # the role id stays; the label says both
    assert entry.who_label.startswith("uw eHerkenningsbeheerder als uw telefoonnummer niet klopt")
    assert entry.who_label.endswith("Dan uw eHerkenningsmakelaar")
    for text in (entry.steps.medewerker, entry.steps.servicedesk, entry.reply):
        sentences = re.split(r"(?<=[.?!])\s+", text)
        number = next(i for i, s in enumerate(sentences) if "fout of oud" in s)
        assert "eHerkenningsbeheerder" in " ".join(sentences[number : number + 2]), text
        right = next(i for i, s in enumerate(sentences) if "(opnieuw) worden geactiveerd" in s)
        assert "eHerkenningsmakelaar" in " ".join(sentences[right : right + 2]), text
        assert "Klopt het nummer" in text, text


def test_a_linked_phrase_is_plain_text_with_its_link_kept_aside() -> None:
    entry = load_catalogue().entry("no-authorisation")
    assert "Die staan op de pagina voor eHerkenningsbeheerders." in entry.steps.medewerker
    assert "[" not in entry.steps.medewerker
    assert load_catalogue().diagnosis("no-authorisation").advice == entry.steps.medewerker
    parts = entry.segments(entry.steps.medewerker)
    assert "".join(part.text for part in parts) == entry.steps.medewerker
    linked = [part for part in parts if part.link]
    assert [(part.text, part.link, part.site_path) for part in linked] == [
        ("pagina voor eHerkenningsbeheerders", "beheerder.md#gegevens-machtiging", "beheerder/#gegevens-machtiging")
    ]


def test_a_linked_phrase_must_point_to_an_existing_page(raw: list[dict[str, Any]]) -> None:
    raw[0]["cause"] = "Lees de [pagina die er niet is](bestaat-niet.md) voor de uitleg."
    with pytest.raises(CatalogueError, match="bestaat-niet.md"):
        parse_catalogue(raw, docs_dir=ROOT / "docs")


def test_explanation_partial_links_the_phrase() -> None:
    from bs4 import BeautifulSoup
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("diagnostics", "templates"), autoescape=select_autoescape())
    html = environment.get_template("_partials/explanation.html").render(
        entry=load_catalogue().entry("no-authorisation")
    )
    link = BeautifulSoup(html, "html.parser").find("a", string="pagina voor eHerkenningsbeheerders")
    assert link is not None and link["href"] == "/beheerder/#gegevens-machtiging"


def test_a_link_must_point_to_an_existing_anchor(raw: list[dict[str, Any]]) -> None:
    raw[0]["links"] = ["beheerder.md#gegevens-machtiging"]
    parse_catalogue(copy.deepcopy(raw), docs_dir=ROOT / "docs")
    raw[0]["links"] = ["beheerder.md#geen-anker"]
    with pytest.raises(CatalogueError, match="anker bestaat niet"):
        parse_catalogue(raw, docs_dir=ROOT / "docs")


def test_site_path_makes_only_index_pages_a_folder_root() -> None:
    assert site_path("index.md") == ""
    assert site_path("hulp/index.md#a") == "hulp/#a"
    assert site_path("zoekindex.md") == "zoekindex/"
    assert site_path("beheerder.md#gegevens-machtiging") == "beheerder/#gegevens-machtiging"
