"""``python -m pytest_qatech.simulator [-- COMMAND]``: serve the simulated APIs with the demo
runs, and run a command with every platform's URL and credentials pointing at them."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from collections.abc import Sequence

from pytest_qatech.simulator.demo import demo_simulator, environment


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_qatech.simulator",
        description="Serve the simulated QA.tech, TestVibe and Autonoma APIs on 127.0.0.1 with "
        "the demo runs (QA.tech abc123: a pass, a failure and a skip; green1: all passed; "
        "TestVibe 214: two passes and a failure; 215: passed; Autonoma "
        "gch7uesq5h6m9xe2fdq5ddgd: failed; k2d9xq7mm3v0w1p4r8s6t5ua: passed), and a QA.tech "
        "project whose test plan pln_smoke (also its default plan) starts a run with a flaky "
        "case: it fails, and passes when rerun; and whose test plan pln_nightly has six cases "
        "of which two fail every time (the --lf demo).",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--serve-media",
        action="store_true",
        help="serve the cases' screenshots, recordings and videos too (their links lead here), "
        "for --qatech-artifacts",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="after '--': a command to run with each platform's URL and credentials variables "
        "(QATECH_API_URL, TESTVIBE_SERVER, AUTONOMA_API_URL, ...) pointing at the simulator",
    )
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with demo_simulator(port=args.port, media=args.serve_media) as simulator:
        variables = environment(simulator.url)
        if not command:
            print(f"Simulated APIs on {simulator.url}; Ctrl-C stops. For your shell:")
            for name, value in variables.items():
                print(f"  export {name}={value}")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        try:
            return subprocess.call(command, env={**os.environ, **variables})
        except FileNotFoundError:
            print(f"simulator: command not found: {command[0]}", file=sys.stderr)
            return 127


if __name__ == "__main__":
    sys.exit(main())
