"""Who limited a run: the load generator, the server, or too few users (or nobody).

A generator is the bottleneck when it is short of CPU: busy on a core, or runnable but waiting
for one (its run-queue wait, which its CPU time does not show). The server is the bottleneck
when the run fell behind its schedule (rate short, or sends late) and its service time (p50 or
mean) grew to several times its best while the generator had headroom: requests queued in the
server. A run that kept its schedule was limited by nobody, however its latency looks. Too few users is the rest: the sends slipped, yet neither side was short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from loadtest.hdr import LatencyStats
from loadtest.server_times import ServerTimes

__all__ = ["RATE_SHORTFALL", "Verdict", "decide"]

GENERATOR_CPU_PERCENT = 90.0  # on a core this share of the run
GENERATOR_WAIT_PERCENT = 20.0  # in the run queue this share of the run
GENERATOR_RUNNABLE_PERCENT = 90.0  # on a core or waiting for one
GENERATOR_HEADROOM_PERCENT = 60.0  # what one process should stay under when split
RATE_SHORTFALL = 0.95  # achieved below 95% of the target rate counts as falling short
SERVICE_GROWTH = 3.0  # service p50 or mean this many times its best (min): requests queue
LAG_SLACK_MS = 10.0  # sends later than this at p99 count as slipping


@dataclass(frozen=True)
class Verdict:
    """kind is "generator-bound", "server-bound", "users-bound" or "none"."""

    kind: str
    reasons: list[str] = field(default_factory=list)

    @property
    def bottleneck(self) -> bool:
        return self.kind != "none"


def _generator_reasons(processes: list[dict[str, Any]]) -> list[str]:
    reasons = []
    for usage in processes:
        cpu = usage["mean_percent"]
        wait = usage.get("wait_percent")
        runnable = usage.get("runnable_percent")
        short = cpu >= GENERATOR_CPU_PERCENT or (
            wait is not None
            and (wait >= GENERATOR_WAIT_PERCENT or (runnable or 0) >= GENERATOR_RUNNABLE_PERCENT)
        )
        if not short:
            continue
        waited = (
            "" if wait is None else f", waited for a CPU {wait:.0f}% (runnable {runnable:.0f}%)"
        )
        if wait is not None and wait > cpu:
            # It mostly queued behind other work: more processes on the same cores won't help.
            advice = (
                "the machine's CPUs were busy with other work (the server, other jobs): run the "
                "generator where it has cores of its own, or at a lower rate"
            )
        else:
            demand = max(cpu, runnable or 0.0)
            needed = max(2, math.ceil(demand / GENERATOR_HEADROOM_PERCENT))
            advice = (
                f"give it about {needed} processes (--processes) on a machine with that many "
                "free cores, or more machines"
            )
        reasons.append(
            f"load generator {usage['role']} (pid {usage['pid']}) was short of CPU: on a core "
            f"{cpu:.0f}% of the run{waited}; its sends slipped: {advice}"
        )
    return reasons


def decide(
    processes: list[dict[str, Any]],
    *,
    target_rps: float | None,
    achieved_rps: float,
    service: LatencyStats | None,
    lag: LatencyStats | None,
    server: ServerTimes | None = None,
    users: int | None = None,
) -> Verdict:
    """The run's verdict from the generator's CPU and run-queue wait, the achieved rate, the
    send lag and the service time (and the server's own times, named when known).

    With one user (`users` 1) nothing of the run can queue in the server: each call waits for
    the last, so a slow call means too few users, however the service time varied."""
    shortfall = bool(target_rps) and achieved_rps < RATE_SHORTFALL * (target_rps or 0.0)
    slipped = lag is not None and lag.p99 > LAG_SLACK_MS
    notes = []
    if shortfall:
        notes.append(
            f"achieved {achieved_rps:.1f} req/s, below the target {target_rps:.1f} req/s; the "
            "latencies include the time requests waited to be sent"
        )
    if lag is not None and slipped:
        notes.append(f"sends were late by p50 {lag.p50:.1f} ms, p99 {lag.p99:.1f} ms")
    generator = _generator_reasons(processes)
    if generator:
        return Verdict("generator-bound", generator + notes)
    in_server = f"; in the server: {server.describe()}" if server else ""
    grown = service is not None and max(service.p50, service.mean) >= SERVICE_GROWTH * service.min
    limited = shortfall or slipped  # a run that kept its schedule was limited by nobody
    concurrent = users is None or users > 1
    if service is not None and service.min > 0 and grown and limited and concurrent:
        headroom = ", ".join(
            f"{u['role']} {u['mean_percent']:.0f}% CPU"
            + (
                ""
                if u.get("runnable_percent") is None
                else f", {u['runnable_percent']:.0f}% runnable"
            )
            for u in processes
        )
        return Verdict(
            "server-bound",
            [
                f"the server's service time grew to p50 {service.p50:.2f} ms, mean "
                f"{service.mean:.2f} ms, p99 {service.p99:.2f} ms from {service.min:.2f} ms at "
                "best, while the generator "
                f"had headroom ({headroom}): requests queued in the server{in_server}"
            ]
            + notes,
        )
    if limited:
        return Verdict(
            "users-bound",
            [
                "every user was waiting for an answer when its next send was due, while "
                f"neither the generator nor the server was short{in_server}: add --users"
            ]
            + notes,
        )
    return Verdict("none")
