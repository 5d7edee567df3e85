"""A local test beside the remote ones: both kinds run in the same session and JUnit file."""


def test_local_arithmetic() -> None:
    assert 6 * 7 == 42
