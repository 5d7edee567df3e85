"""Measure pytest-qatech against plain pytest, side by side, in one invocation.

    python benchmarks/run.py [--repeat N] [--cases N]

Every figure is the median of N runs of each side, the sides interleaved so that a busy moment
of the machine hits both alike; each is printed as a ratio with its absolute medians. Each run
is a fresh ``python -m pytest`` process; peak memory is that process's own high-water mark of
resident memory (``VmHWM``, written by ``peak_memory.py``). The remote side is served by the
simulator, in this process, on 127.0.0.1.
Plugins that merely happen to be installed here (hypothesis) are disabled on both sides.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_qatech.simulator import (
    DEFAULT_TOKEN,
    SimulatedPlan,
    SimulatedProject,
    SimulatedRun,
    Simulator,
    case,
)
from pytest_qatech.simulator.qatech import trace_step

NEUTRAL = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    peak_mib: float


def run_pytest(
    args: Sequence[str], cwd: Path, env: dict[str, str], codes: Sequence[int] = (0, 1)
) -> Sample:
    peak_file = cwd / "peak-kib.txt"
    env = {
        **env,
        "QATECH_BENCH_PEAK_FILE": str(peak_file),
        "PYTHONPATH": os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *NEUTRAL, "-p", "peak_memory", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # CPU times from wait4 are the child's own (unlike its ru_maxrss, see peak_memory.py).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in codes:
        raise SystemExit(f"pytest {' '.join(args)} in {cwd} exited {code}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(seconds, cpu, int(peak_file.read_text()) / 1024)


def interleaved(
    repeat: int, left: Callable[[], Sample], right: Callable[[], Sample]
) -> tuple[list[Sample], list[Sample]]:
    lefts, rights = [], []
    for index in range(repeat):
        # Alternate which side goes first, so neither always runs on a warmer cache.
        pair = (left, right) if index % 2 == 0 else (right, left)
        first, second = pair[0](), pair[1]()
        lefts.append(first if pair[0] is left else second)
        rights.append(second if pair[0] is left else first)
    return lefts, rights


def median(samples: list[Sample], field: str) -> float:
    return float(statistics.median(getattr(sample, field) for sample in samples))


def report(title: str, target: str, lefts: list[Sample], rights: list[Sample], field: str) -> float:
    left, right = median(lefts, field), median(rights, field)
    unit = " MiB" if field == "peak_mib" else "s"
    ratio = left / right
    aim = f"  target {target}" if target else ""
    print(f"{title:<62} {ratio:6.3f}  ({left:.3f}{unit} / {right:.3f}{unit}){aim}")
    return ratio


def project(files: dict[str, str]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="qatech-bench-"))
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument(
        "--only-overlap", action="store_true", help="measure only the overlap of local and remote"
    )
    parser.add_argument(
        "--only-github",
        action="store_true",
        help="measure only what a session of --cases cases, half failing, gives GitHub Actions",
    )
    parser.add_argument(
        "--only-drip",
        action="store_true",
        help="measure only how long a server that drips a byte a second holds a session",
    )
    parser.add_argument(
        "--only-errors",
        action="store_true",
        help="measure only what errored cases cost beside as many passing ones",
    )
    parser.add_argument(
        "--only-narrowing",
        action="store_true",
        help="measure only how many cases --lf starts of a 50-case plan with 3 failing",
    )
    parser.add_argument(
        "--only-traces",
        action="store_true",
        help="measure only what reading the traces of a 100-case run with 20 failures costs",
    )
    parser.add_argument(
        "--only-costs",
        action="store_true",
        help="measure only the startup and the --cases session's time and memory",
    )
    parser.add_argument(
        "--versus",
        metavar="DIR",
        help="measure only the startup and the --cases session's time and memory of this "
        "version against DIR (another checkout of the plugin), interleaved",
    )
    parser.add_argument(
        "--plugin-path",
        metavar="DIR",
        help="put DIR first on the sessions' path: another checkout of the plugin, to compare",
    )
    options = parser.parse_args(argv)
    repeat, count = options.repeat, options.cases
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
          f"median of {repeat} interleaved runs per side")  # fmt: skip

    ini = {"pytest.ini": "[pytest]\n"}
    one_test = project({**ini, "test_one.py": "def test_one():\n    pass\n"})
    local = project(
        {**ini, "test_many.py": "".join(f"def test_{i}():\n    pass\n" for i in range(count))}
    )
    remote = project(ini)
    cases = [case(f"case {i}", goal="a goal", short_id=f"t{i}") for i in range(count)]
    staggered = {f"run{n}": n for n in (2, 10, 4, 6, 8)}
    # Headlines as long as a real agent's: about 200 bytes.
    headline = "the payment panel stayed empty after the spinner; " * 4
    half_failing = [
        case(f"case {i}", "FAILED" if i % 2 else "PASSED", title=headline, short_id=f"t{i}")
        for i in range(count)
    ]
    runs = [
        SimulatedRun("forever", statuses=("RUNNING",)),
        SimulatedRun("big", "PASSED", cases, statuses=("COMPLETED",)),
        SimulatedRun("half", "FAILED", half_failing, statuses=("COMPLETED",)),
        SimulatedRun("tenth", "PASSED", cases[: count // 10], statuses=("COMPLETED",)),
    ]
    runs += [
        SimulatedRun(rid, cases=[case("a")], statuses=("RUNNING",) * n + ("COMPLETED",))
        for rid, n in staggered.items()
    ]
    env = {**os.environ, "QATECH_API_TOKEN": DEFAULT_TOKEN}
    env.pop("PYTEST_ADDOPTS", None)
    if options.plugin_path:
        env["PYTHONPATH"] = options.plugin_path

    with Simulator(runs) as simulator:
        env["QATECH_API_URL"] = simulator.url
        if options.only_overlap:
            overlap(simulator, repeat, env)
            return 0
        if options.only_github:
            github_limits(remote, env, count)
            return 0
        if options.only_drip:
            dripping(remote, env, repeat)
            return 0
        if options.only_errors:
            errored(remote, env, repeat)
            return 0
        if options.only_traces:
            traces(remote, env, repeat)
            return 0
        if options.only_narrowing:
            narrowing(env)
            return 0
        if options.versus:
            versus(options.versus, one_test, remote, env, repeat)
            return 0

        # Startup is a quarter of a second: more samples, and CPU time beside the wall clock.
        inactive, disabled = interleaved(
            repeat * 5,
            lambda: run_pytest(["--co", "-q"], one_test, env),
            lambda: run_pytest(["--co", "-q", "-p", "no:qatech"], one_test, env),
        )
        title = "startup: --co -q, plugin installed but unused"
        report(f"{title}: wall", "<= 1.03", inactive, disabled, "seconds")
        report(f"{title}: cpu", "<= 1.03", inactive, disabled, "cpu_seconds")

        junit = ["-q", "--junitxml=report.xml"]
        remote_side, local_side = interleaved(
            repeat,
            lambda: run_pytest([*junit, "--qatech-run", "big"], remote, env),
            lambda: run_pytest(junit, local, env),
        )
        title = f"{count} remote cases vs {count} local tests"
        report(f"{title}: wall", "<= 0.8", remote_side, local_side, "seconds")
        report(f"{title}: cpu", "", remote_side, local_side, "cpu_seconds")
        report(f"{title}: peak memory", "<= 1.0", remote_side, local_side, "peak_mib")
        if options.only_costs:
            return 0

        # Linear: ten times the cases cost ten times the per-case time, not a hundred.
        tenth_side, startup_side = interleaved(
            repeat,
            lambda: run_pytest([*junit, "--qatech-run", "tenth"], remote, env),
            lambda: run_pytest(["-q", "--co", "-p", "no:qatech"], one_test, env),
        )
        fixed = median(startup_side, "seconds")
        per_case_big = (median(remote_side, "seconds") - fixed) / count
        per_case_tenth = (median(tenth_side, "seconds") - fixed) / (count // 10)
        print(
            f"{'per-case time, ' + str(count) + ' cases / ' + str(count // 10) + ' cases':<62} "
            f"{per_case_big / per_case_tenth:6.3f}  ({per_case_big * 1e3:.3f}ms / "
            f"{per_case_tenth * 1e3:.3f}ms)  linear: about 1"
        )

        before = len(simulator.requests)
        run_pytest([*junit, "--qatech-run", "big"], remote, env)
        plain = len(simulator.requests) - before
        run_pytest([*junit, "--qatech-run", "big", "-n", "2"], remote, env)
        wide = len(simulator.requests) - before - plain
        print(f"{'API requests for the same run: -n 2 / without xdist':<62} {wide / plain:6.3f}  "
              f"({wide} / {plain})  target exactly 1")  # fmt: skip

        poll = ["-q", "--qatech-poll-interval", "0.1"]
        slowest = max(staggered, key=staggered.__getitem__)
        five_args = [arg for rid in staggered for arg in ("--qatech-run", rid)]

        def reset() -> None:
            for run in runs:
                run.polls = 0

        def five() -> Sample:
            reset()
            return run_pytest([*poll, *five_args], remote, env)

        def alone() -> Sample:
            reset()
            return run_pytest([*poll, "--qatech-run", slowest], remote, env)

        five_side, alone_side = interleaved(repeat, five, alone)
        title = "five staggered runs vs the slowest alone: wall"
        report(title, "<= 1.1", five_side, alone_side, "seconds")

        overlap(simulator, repeat, env)
        github_limits(remote, env, count)
        dripping(remote, env, repeat)
        errored(remote, env, repeat)
        traces(remote, env, repeat)
        narrowing(env)
    return 0


def versus(other: str, one_test: Path, remote: Path, env: dict[str, str], repeat: int) -> None:
    """This version's costs against another checkout's, side by side: the startup of a session
    that does not use the plugin, and the --cases session's time and memory."""
    theirs = {**env, "PYTHONPATH": other}
    ours, them = interleaved(
        repeat * 5,
        lambda: run_pytest(["--co", "-q"], one_test, env),
        lambda: run_pytest(["--co", "-q"], one_test, theirs),
    )
    title = f"startup, plugin unused: this version / {other}"
    report(f"{title}: wall", "<= 1.03", ours, them, "seconds")
    report(f"{title}: cpu", "<= 1.03", ours, them, "cpu_seconds")
    args = ["-q", "--junitxml=report.xml", "--qatech-run", "big"]
    ours, them = interleaved(
        repeat,
        lambda: run_pytest(args, remote, env),
        lambda: run_pytest(args, remote, theirs),
    )
    title = f"the remote session: this version / {other}"
    report(f"{title}: wall", "<= 1.0", ours, them, "seconds")
    report(f"{title}: cpu", "<= 1.0", ours, them, "cpu_seconds")
    report(f"{title}: peak memory", "<= 1.0", ours, them, "peak_mib")


def errored(folder: Path, env: dict[str, str], repeat: int, count: int = 200) -> None:
    """A case without a verdict is an error raised in setup; its report must cost what a pass
    costs, not a formatted (and discarded) Python traceback of the plugin's frames."""
    crashed = [
        case(f"case {i}", None, status="ERROR", title="Agent lost the browser", short_id=f"e{i}")
        for i in range(count)
    ]
    passing = [case(f"case {i}", short_id=f"p{i}") for i in range(count)]
    runs = [
        SimulatedRun("errored", "FAILED", crashed, statuses=("COMPLETED",)),
        SimulatedRun("passing", "PASSED", passing, statuses=("COMPLETED",)),
    ]
    with Simulator(runs) as simulator:
        served = {**env, "QATECH_API_URL": simulator.url, "QATECH_DETAILS": "none"}
        errors, passes = interleaved(
            repeat,
            lambda: run_pytest(["-q", "--qatech-run", "errored"], folder, served),
            lambda: run_pytest(["-q", "--qatech-run", "passing"], folder, served),
        )
    report(f"{count} errored cases vs {count} passing ones: wall", "<= 1.5", errors, passes,
           "seconds")  # fmt: skip


def traces(
    folder: Path, env: dict[str, str], repeat: int, count: int = 100, failing: int = 20
) -> None:
    """What the agents' traces cost: a run of ``count`` cases, ``failing`` of them failed with
    a trace of 40 steps each (two pages), with traces read (the default) and without
    (``--qatech-trace-steps 0``): the API requests made and the session's wall time."""
    steps = [trace_step(i, f"step {i}", "click", {"selector": f"#b{i}"}, "ok") for i in range(40)]
    cases = [
        case(
            f"case {i}", "FAILED" if i < failing else "PASSED", title="no button", short_id=f"f{i}"
        )
        for i in range(count)
    ]
    run = SimulatedRun("traced", "FAILED", cases, statuses=("COMPLETED",))
    run.traces = {f"f{i}": steps for i in range(failing)}
    with Simulator([run]) as simulator:
        served = {**env, "QATECH_API_URL": simulator.url}
        args = ["-q", "--qatech-run", "traced", "--junitxml=report.xml"]

        def session(*more: str) -> Callable[[], Sample]:
            return lambda: run_pytest([*args, *more], folder, served)

        requests = []
        for more in ((), ("--qatech-trace-steps", "0")):
            before = len(simulator.requests)
            session(*more)()
            requests.append(len(simulator.requests) - before)
        traced, untraced = interleaved(repeat, session(), session("--qatech-trace-steps", "0"))
    title = f"{count} cases, {failing} failed with 40-step traces"
    print(f"{title + ': API requests, traces / none':<62} {requests[0] / requests[1]:6.3f}  "
          f"({requests[0]} / {requests[1]})")  # fmt: skip
    report(f"{title}: wall, traces / none", "", traced, untraced, "seconds")


def narrowing(env: dict[str, str], count: int = 50, failing: int = 3) -> None:
    """What ``--lf`` starts of a plan of ``count`` cases after a session in which ``failing`` of
    them failed: the cases each start named, and each session's wall time. pytest's cache is on
    here (``--lf`` lives in it), in a folder of its own."""

    def plan_run(short_id: str) -> SimulatedRun:
        cases = [
            case(f"case {i}", "FAILED" if i < failing else "PASSED", short_id=f"{short_id}c{i}")
            for i in range(count)
        ]
        return SimulatedRun(short_id, "FAILED", cases)

    folder = project({"pytest.ini": "[pytest]\n"})
    project_api = SimulatedProject([SimulatedPlan("Regression", plan_run, "pln_regression")])
    with Simulator(project=project_api) as simulator:
        served = {**env, "QATECH_API_URL": simulator.url}
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:hypothesispytest", "-p",
                "no:randomly", "--qatech-plan", "pln_regression",
                "--qatech-poll-interval", "0.1"]  # fmt: skip
        seconds, started = [], []
        for extra in ((), ("--lf",)):
            began = time.perf_counter()
            subprocess.run(
                [*base, *extra], cwd=folder, env=served, capture_output=True, check=False
            )
            seconds.append(time.perf_counter() - began)
            body = project_api.starts[-1]
            started.append(len(body.get("testCaseIds", [])) or count)
    title = f"plan of {count}, {failing} failing: cases started, --lf / whole"
    print(f"{title:<62} {started[1] / started[0]:6.3f}  ({started[1]} / {started[0]})  "
          f"target {failing} / {count}")  # fmt: skip
    print(f"{'the same: wall, --lf / whole':<62} {seconds[1] / seconds[0]:6.3f}  "
          f"({seconds[1]:.3f}s / {seconds[0]:.3f}s)")  # fmt: skip


def dripping(folder: Path, env: dict[str, str], repeat: int, timeout: float = 3.0) -> None:
    """How long a session with ``--qatech-timeout`` takes against a server on 127.0.0.1 that
    answers every request a byte a second: its wall time over the timeout."""
    import socket
    import threading

    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b'{"status":"RUNNING"}'

    def drip(connection: socket.socket) -> None:
        with connection:
            for byte in answer:
                if stop.wait(1.0):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    port = server.getsockname()[1]
    dripped = {**env, "QATECH_API_URL": f"http://127.0.0.1:{port}"}
    args = ["-q", "--qatech-run", "abc123", "--qatech-timeout", f"{timeout:g}"]
    # The same timeout against a run that simply never ends (the simulator's "forever"): what
    # the drip may add to the process's end.
    plain_args = ["-q", "--qatech-run", "forever", "--qatech-timeout", f"{timeout:g}"]
    try:
        # Beside each, a session that starts and collects nothing: what is not the wait.
        samples, startups = interleaved(
            repeat,
            lambda: run_pytest(args, folder, dripped, codes=(2,)),
            lambda: run_pytest(["-q", "--co", "-p", "no:qatech"], folder, env, codes=(5,)),
        )
        drips, plains = interleaved(
            repeat,
            lambda: run_pytest(args, folder, dripped, codes=(2,)),
            lambda: run_pytest(plain_args, folder, env, codes=(2,)),
        )
    finally:
        stop.set()
        serving.join(timeout=5)
        server.close()
    waited = median(samples, "seconds") - median(startups, "seconds")
    title = f"a byte a second: the wait / --qatech-timeout {timeout:g}s"
    print(
        f"{title:<62} {waited / timeout:6.3f}  ({waited:.3f}s / {timeout:.3f}s)  "
        f"target <= {(timeout + 1) / timeout:.2f} (a second more)"
    )
    overrun = median(drips, "seconds") - median(plains, "seconds")
    title = "a byte a second: the process's end, over a run never ending"
    print(
        f"{title:<62} {overrun:+6.3f}s ({median(drips, 'seconds'):.3f}s - "
        f"{median(plains, 'seconds'):.3f}s)  target <= +1.0s"
    )


def github_limits(folder: Path, env: dict[str, str], count: int) -> None:
    """What GitHub Actions gets from a session of ``count`` cases, half of them failing: the job
    summary's size (GitHub rejects more than 1 MiB) and the error annotations (it shows 10)."""
    summary = folder / "step-summary.md"
    summary.write_text("")
    github = {**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["-q", "--qatech-run", "half", "--qatech-details", "none"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *NEUTRAL, *args],
        cwd=folder,
        env=github,
        capture_output=True,
        text=True,
        check=False,
    )
    annotations = sum(line.startswith("::error") for line in done.stdout.splitlines())
    size = summary.stat().st_size
    print(f"{f'GitHub, {count} cases, {count // 2} failing: job summary':<62} {size / 2**20:6.3f}  "
          f"({size} bytes / 1 MiB)  target <= 1")  # fmt: skip
    print(f"{f'GitHub, {count} cases, {count // 2} failing: error annotations':<62} "
          f"{annotations:6d}  target <= 10")  # fmt: skip


#: (what, seconds the local tests take, seconds the remote run takes, extra pytest options);
#: under -n 2 the local tests are twice as many, as two workers share them.
OVERLAPS = (
    ("local longer", 2.0, 1.0, ()),
    ("remote longer", 1.0, 2.0, ()),
    ("equal", 1.5, 1.5, ()),
    ("equal, -n 2", 1.5, 1.5, ("-n", "2")),
)
#: Local tests and remote cases per scenario; each local test sleeps its share (it stands for
#: a test that waits on something), each remote case finishes one step after the previous.
PARTS = 5


def overlap(simulator: Simulator, repeat: int, env: dict[str, str]) -> None:
    """Local tests beside a remote run that goes on meanwhile: the wall time of one session
    with both, over the longer of the two alone."""
    for what, local_seconds, remote_seconds, extra in OVERLAPS:
        together, local, remote = overlap_of(
            simulator, repeat, env, local_seconds, remote_seconds, extra
        )
        longer = max(local, remote)
        print(
            f"{'overlap, ' + what + ': both / the longer alone':<62} {together / longer:6.3f}  "
            f"({together:.3f}s / {longer:.3f}s; local {local:.3f}s, remote {remote:.3f}s)  "
            "target <= 1.2"
        )


def overlap_of(
    simulator: Simulator,
    repeat: int,
    env: dict[str, str],
    local_seconds: float,
    remote_seconds: float,
    extra: Sequence[str],
) -> tuple[float, float, float]:
    """The median walls of a session with both, of the local tests alone and of the remote
    run alone."""
    workers = 2 if extra else 1
    tests = "".join(
        f"def test_{i}():\n    time.sleep({local_seconds / PARTS})\n\n"
        for i in range(PARTS * workers)
    )
    local = project({"pytest.ini": "[pytest]\n", "test_local.py": "import time\n\n" + tests})
    empty = project({"pytest.ini": "[pytest]\n"})
    run = SimulatedRun(
        f"overlap{len(simulator.runs)}",
        cases=[case(f"case {i}", short_id=f"c{i}") for i in range(PARTS)],
        statuses=("RUNNING",) * PARTS + ("COMPLETED",),
        finish_at={f"c{i}": i + 1 for i in range(PARTS)},
        step_seconds=remote_seconds / PARTS,
    )
    simulator.add(run)
    args = ["-q", "--qatech-poll-interval", "0.1", *extra]

    def with_run(folder: Path) -> Sample:
        run.started, run.polls = None, 0  # the run starts with each session
        return run_pytest([*args, "--qatech-run", run.short_id], folder, env)

    sides: list[tuple[Callable[[], Sample], list[Sample]]] = [
        (lambda: with_run(local), []),
        (lambda: run_pytest(args, local, env), []),
        (lambda: with_run(empty), []),
    ]
    for index in range(repeat):
        # Each side goes first in turn: a busy moment of the machine hits all alike.
        for measure, samples in sides[index % 3 :] + sides[: index % 3]:
            samples.append(measure())
    together, local_alone, remote_alone = (median(samples, "seconds") for _, samples in sides)
    return together, local_alone, remote_alone


if __name__ == "__main__":
    sys.exit(main())
