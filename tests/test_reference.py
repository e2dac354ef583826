"""Reference codes: the alphabet leaves out look-alikes, and a typed look-alike is recognised as such."""

from __future__ import annotations

import pytest

from diagnostics.reference import ALPHABET, LOOKALIKES, has_lookalikes, new_reference, normalise


def test_no_lookalike_is_in_the_alphabet_and_together_they_cover_every_digit_and_letter() -> None:
    assert not set(LOOKALIKES) & set(ALPHABET)
    assert set(LOOKALIKES) | set(ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_a_new_code_normalises_to_itself_and_has_no_lookalikes() -> None:
    code = new_reference()
    assert normalise(code.lower().replace("-", " ")) == code
    assert not has_lookalikes(code)


@pytest.mark.parametrize("typed", ["BHP-0000-0000", "bhp-o23k-2345", "BHP-2345-678I", "bhp 2345 67lv", "uuuu2345"])
def test_a_typed_lookalike_is_recognised_and_the_code_is_refused(typed: str) -> None:
    assert normalise(typed) is None
    assert has_lookalikes(typed)


@pytest.mark.parametrize("typed", ["hallo", "BHP-2345", "BHP-2345-6789-ABCD", "BHP-0000-000!", "", "BHP-OOOO-OOOO-O"])
def test_input_not_shaped_like_a_code_is_not_blamed_on_lookalikes(typed: str) -> None:
    assert normalise(typed) is None
    assert not has_lookalikes(typed)
