"""A pytest plugin for the benchmarks: writes this process's peak resident memory at the end.

``wait4``'s ``ru_maxrss`` would include the memory of the process that started pytest (Linux
carries the high-water mark across exec); ``VmHWM`` belongs to this process image alone.
"""

from __future__ import annotations

import os

import pytest


def pytest_unconfigure(config: pytest.Config) -> None:
    target = os.environ.get("QATECH_BENCH_PEAK_FILE")
    if not target:
        return
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(target, "w") as out:
        out.write(str(peak_kib))
