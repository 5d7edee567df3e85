"""Credentials never shown, and struck out of remote text: the core's secrets module alone.

Every value held stays held for the rest of the process, so each test holds values of its own,
fresh each time it runs (a value held before would skip what holding does), and values no
other test could print by chance.
"""

from __future__ import annotations

import pickle
import secrets

import pytest

from pytest_qatech.core.secrets import REDACTED, Secret, redact


def fresh(length: int = 12) -> str:
    """A value never held before in this process."""
    return secrets.token_urlsafe(length)[:length]


def test_a_secret_shows_itself_nowhere_and_is_never_pickled() -> None:
    value = fresh()
    secret = Secret(value)
    assert repr(secret) == str(secret) == "Secret('********')"
    assert secret.reveal() == value
    with pytest.raises(TypeError, match=r"^a Secret is never pickled$"):
        pickle.dumps(secret)


def test_each_held_credential_is_struck_out_of_any_text() -> None:
    one, two = fresh(), fresh()
    Secret(one)
    Secret(two)
    assert redact(f"a {one} b {two} c {one}") == f"a {REDACTED} b {REDACTED} c {REDACTED}"
    Secret(one)  # held twice: still struck once
    assert redact(one) == REDACTED


def test_six_characters_are_a_credential_and_five_are_not() -> None:
    six, five = f"#{fresh(5)}", f"%{fresh(4)}"
    Secret(six)
    Secret(five)
    assert redact(f"{six} {five}") == f"{REDACTED} {five}"


def test_a_credential_that_begins_another_leaves_nothing_of_the_longer_one() -> None:
    # Held shorter first: the longer must still be struck out whole.
    short = fresh()
    Secret(short)
    Secret(f"{short}-and-its-tail")
    assert redact(f"<{short}-and-its-tail>") == f"<{REDACTED}>"


def test_a_credential_with_pattern_characters_is_struck_out_literally() -> None:
    special = f"{fresh(6)}.+*?(k)"
    Secret(special)
    near = special.replace(".+*?", "AAAA")
    assert redact(f"{special} {near}") == f"{REDACTED} {near}"
