"""Local tests beside the remote ones: both kinds run in the same session and JUnit file, the
local ones while the remote run is still going."""

import time


def test_local_arithmetic() -> None:
    assert 6 * 7 == 42


def test_local_integration() -> None:
    # Stands for a local test that takes a while: the remote run goes on meanwhile.
    time.sleep(1.5)
