"""An example ``conftest.py`` for a project that runs its own tests and QA.tech runs together.

Copy it to your project's root as ``conftest.py`` and adapt it. In CI, pass the run id on the
command line (``pytest --qatech-run "$QATECH_RUN_ID" --junitxml report.xml``) or through
``PYTEST_ADDOPTS``; the token comes from the ``QATECH_API_TOKEN`` secret.

Remote cases are ordinary pytest items with the ``qatech`` marker and node ids of the form
``qatech::<run short id>::<case name>``, so everything below is plain pytest.
"""

from __future__ import annotations

import pytest

#: Remote cases that fail for a known reason, by case name, with the ticket that tracks it.
#: They still run and are reported, as xfail instead of a failure, until the ticket is fixed.
KNOWN_ISSUES = {
    "Checkout with saved card": "PAY-1432: the Pay now button is hidden behind a feature flag",
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("qatech") and item.name in KNOWN_ISSUES:
            item.add_marker(pytest.mark.xfail(reason=KNOWN_ISSUES[item.name], strict=False))

    # Local tests first: they are quick and a broken build shows before the remote results.
    # sort() is stable, so each group keeps its own order.
    items.sort(key=lambda item: item.get_closest_marker("qatech") is not None)
