"""Remote text made safe, and durations made readable: the core's text functions alone."""

from __future__ import annotations

import pytest

from pytest_qatech.core.text import capped, clean, first_line, format_duration, one_line, visible


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    assert clean("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert clean("plain 🙂") == "plain 🙂"


@pytest.mark.parametrize(
    ("remote", "shown"),
    [
        ("\x1b[2Jgone", "\\x1b[2Jgone"),
        ("line\nnext\ttab", "line\nnext\ttab"),
        ("\u2028\x85\ufffe", "\\u2028\\x85\\ufffe"),
        ("::add-mask::x", "\\x3a:add-mask::x"),
        ("  ::error::x", "  \\x3a:error::x"),
        ("ok\n\t::stop-commands::t", "ok\n\t\\x3a:stop-commands::t"),
        ("a :: b", "a :: b"),
        ("see ##[error]x", "see #\\x23[error]x"),
    ],
)
def test_visible_spells_out_controls_and_workflow_commands(remote: str, shown: str) -> None:
    assert visible(remote) == shown


def test_one_line_makes_white_space_and_controls_one_space() -> None:
    assert one_line("  a\n\n b\x1b\tc  ") == "a b c"


def test_first_line_is_the_first_of_the_stripped_text() -> None:
    assert first_line("\n  head\nsecond\nthird\n") == "head"
    assert first_line("only") == "only"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-1.0, "0.0s"),
        (0.04, "0.0s"),
        (9.94, "9.9s"),
        (10.0, "10s"),
        (59.4, "59s"),
        (60.0, "1m 00s"),
        (61.0, "1m 01s"),
        (3599.0, "59m 59s"),
        (3600.0, "1h 00m"),
        (3660.0, "1h 01m"),
        (90061.0, "25h 01m"),
    ],
)
def test_format_duration_at_each_boundary(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_a_text_of_exactly_the_most_is_kept_whole() -> None:
    assert capped("abcd", 4) == "abcd"
    assert capped("abcde", 4) == "abcd [... 1 more character]"
