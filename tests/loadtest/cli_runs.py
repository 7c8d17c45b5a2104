"""Run `python -m loadtest` as a user does, in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from tests.serverproc import ROOT


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, timeout: float = 120) -> CliRun:
    """`python -m loadtest ARGS` in a fresh process, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "loadtest", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)
