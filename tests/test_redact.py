"""Credentials never shown, and struck out of remote text: the core's secrets module alone.

Every value held here stays held for the rest of the process, so each is one no other test
could print by chance.
"""

from __future__ import annotations

import pickle

import pytest

from pytest_qatech.core.secrets import REDACTED, Secret, redact


def test_a_secret_shows_itself_nowhere_and_is_never_pickled() -> None:
    secret = Secret("unit-repr-t0ken")
    assert repr(secret) == str(secret) == "Secret('********')"
    assert secret.reveal() == "unit-repr-t0ken"
    with pytest.raises(TypeError, match=r"^a Secret is never pickled$"):
        pickle.dumps(secret)


def test_each_held_credential_is_struck_out_of_any_text() -> None:
    Secret("unit-one-Zq81")
    Secret("unit-two-Zq82")
    assert redact("a unit-one-Zq81 b unit-two-Zq82 c unit-one-Zq81") == (
        f"a {REDACTED} b {REDACTED} c {REDACTED}"
    )
    Secret("unit-one-Zq81")  # held twice: still struck once
    assert redact("unit-one-Zq81") == REDACTED


def test_six_characters_are_a_credential_and_five_are_not() -> None:
    Secret("Q7#k2z")
    Secret("W4%j9")
    assert redact("Q7#k2z W4%j9") == f"{REDACTED} W4%j9"


def test_a_credential_that_begins_another_leaves_nothing_of_the_longer_one() -> None:
    # Held shorter first: the longer must still be struck out whole.
    Secret("unit-prefix-Xk")
    Secret("unit-prefix-Xk-and-its-tail")
    assert redact("<unit-prefix-Xk-and-its-tail>") == f"<{REDACTED}>"


def test_a_credential_with_pattern_characters_is_struck_out_literally() -> None:
    Secret("unit.+*?(k)")
    assert redact("unit.+*?(k) unitAAAA(k)") == f"{REDACTED} unitAAAA(k)"
