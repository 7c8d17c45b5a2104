"""The locustfile: one user class for LOADTEST_TRANSPORT, HDR latency recording, paced mode, stages.

Settings come from LOADTEST_* environment variables (see loadtest/README.md), so every process
of a run, forked (--processes) or on other machines (--master/--worker), reads the same ones.
`python -m loadtest run` sets them; Locust can also be run directly:

    LOADTEST_TRANSPORT=grpc LOADTEST_MODEL=tabular \
        locust -f loadtest/locustfile.py --host 127.0.0.1:8500

With LOADTEST_RESULTS set, the master (or the only process) writes the merged HDR histograms,
the load generator's CPU and the workload there when Locust quits.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent
from locust import events
from locust.env import Environment
from locust.event import EventHook
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from clients.spec import ModelTarget
from loadtest.cpu import CpuWatch
from loadtest.grpc_calls import enable_gevent
from loadtest.hdr import LatencyRecorder, latency_stats
from loadtest.payloads import build_workload
from loadtest.served import describe_served_model
from loadtest.settings import LoadSettings
from loadtest.shapes import load_stages, stages_shape
from loadtest.users import LAG_KEY, user_class

logger = logging.getLogger("loadtest")

SETTINGS = LoadSettings.from_env()
RESULTS = os.environ.get("LOADTEST_RESULTS")
REPORT_KEY = "loadtest"  # our part of each worker's stats report to the master

# Locust runs every concrete user class and the shape class it finds here, so only the ones
# this run uses exist.
LoadUser = user_class(SETTINGS.transport, SETTINGS.timeout)
if SETTINGS.stages:
    StagesShape = stages_shape(load_stages(SETTINGS.stages))


class RunState:
    """What this process records, and what the master merged from its workers."""

    def __init__(self, role: str) -> None:
        self.recorder = LatencyRecorder()
        self.cpu = CpuWatch(role)
        self.worker_cpu: dict[str, dict[str, Any]] = {}
        self.workload: dict[str, Any] | None = None
        self.user_rate: float | None = None
        self.started: str | None = None
        self.sampler: gevent.Greenlet | None = None

    def processes(self) -> list[dict[str, Any]]:
        """CPU of the processes that ran users: the workers, or this process."""
        if self.worker_cpu:
            return list(self.worker_cpu.values())
        return [self.cpu.usage.to_dict()] if self.cpu.usage else []


STATE: RunState | None = None  # this process's, made when Locust initialises
_ENVIRONMENTS: list[Environment] = []  # the `quit` event does not pass it


def _state() -> RunState:
    if STATE is None:
        raise RuntimeError("the locustfile's init listener has not run")
    return STATE


_Handler = TypeVar("_Handler", bound=Callable[..., None])


def _listener(hook: EventHook) -> Callable[[_Handler], _Handler]:
    """hook.add_listener, typed: it adds the handler and returns it (Locust leaves it unannotated)."""

    def add(handler: _Handler) -> _Handler:
        add_listener: Callable[[_Handler], object] = hook.add_listener
        add_listener(handler)
        return handler

    return add


def _role(environment: Environment) -> str:
    if isinstance(environment.runner, MasterRunner):
        return "master"
    return "worker" if isinstance(environment.runner, WorkerRunner) else "local"


@_listener(events.init)
def on_init(environment: Environment, **_: Any) -> None:
    global STATE
    state = STATE = RunState(_role(environment))
    _ENVIRONMENTS.append(environment)
    if SETTINGS.transport == "grpc" and state.cpu.role != "master":
        enable_gevent()  # before this process makes its first channel

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        context: dict[str, Any] | None = None,
        start_time: float | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        started = start_time if start_time is not None else time.time() - response_time / 1000
        lag = (context or {}).get(LAG_KEY)
        failed = exception is not None
        state.recorder.record(request_type, name, response_time, started, lag, failed)

    _listener(environment.events.request)(on_request)
    if state.cpu.role == "worker":

        def on_report(client_id: str, data: dict[str, Any]) -> None:
            usage = state.cpu.usage.to_dict() if state.cpu.usage else None
            hdr = state.recorder.drain()
            data[REPORT_KEY] = {"hdr": hdr, "cpu": usage, "workload": state.workload}

        _listener(environment.events.report_to_master)(on_report)
    if state.cpu.role == "master":

        def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
            report = data.get(REPORT_KEY)
            if report is None:
                return
            state.recorder.merge(report["hdr"])
            if report["cpu"]:
                state.worker_cpu[client_id] = report["cpu"]
            state.workload = state.workload or report["workload"]

        _listener(environment.events.worker_report)(on_worker_report)


@_listener(events.test_start)
def on_test_start(environment: Environment, **_: Any) -> None:
    state = _state()
    runner = environment.runner
    assert runner is not None, "Locust's runner fires test_start"
    options = environment.parsed_options
    state.started = state.started or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if state.cpu.role != "worker" and SETTINGS.target_rate:
        # Custom options travel to the workers with each spawn message.
        users = max(1, runner.target_user_count)
        state.user_rate = SETTINGS.target_rate / users
        if options is not None:
            options.loadtest_user_rate = state.user_rate
    if state.cpu.role == "master":
        return
    if state.cpu.role == "worker":
        state.user_rate = getattr(options, "loadtest_user_rate", None)
    try:
        _prepare_users(environment, state)
    except Exception as err:  # a run without its workload must stop, whatever the cause
        logger.error("cannot prepare the load test: %s", err)
        environment.process_exit_code = 2
        gevent.spawn(runner.quit)
        return
    state.cpu.start()
    state.sampler = gevent.spawn(_sample_cpu, state.cpu)


def _prepare_users(environment: Environment, state: RunState) -> None:
    host = environment.host or SETTINGS.target_host
    target = ModelTarget(SETTINGS.model, SETTINGS.version, SETTINGS.label, SETTINGS.signature)
    served = describe_served_model(SETTINGS.transport, host, target, SETTINGS.timeout)
    workload = build_workload(SETTINGS, served)
    LoadUser.workload = workload
    LoadUser.user_rate = state.user_rate
    LoadUser.host = host
    state.workload = {
        "request_name": workload.request_name,
        "kind": workload.kind,
        "source": workload.source,
        "served_version": workload.served_version,
        "batches": len(workload.batches),
        "rows_per_request": workload.batches[0].rows,
    }
    logger.info("%s: %s, version %s", workload.request_name, workload.source, served.version)


def _sample_cpu(watch: CpuWatch) -> None:
    while True:
        gevent.sleep(1.0)
        watch.sample()


@_listener(events.test_stop)
def on_test_stop(environment: Environment, **_: Any) -> None:
    state = _state()
    if state.sampler is not None:
        state.sampler.kill(block=False)
        state.sampler = None
    state.cpu.stop()


@_listener(events.quit)
def on_quit(exit_code: int, **_: Any) -> None:
    # `quit` comes after the runner has stopped and, on a master, after the workers' last reports.
    state = STATE
    if state is None or state.cpu.role == "worker":
        return
    _rewrite_locust_csv(_ENVIRONMENTS[-1])
    for key, histogram in sorted(state.recorder.latency.items()):
        stats = latency_stats(histogram)
        logger.info(
            "HDR %s: n=%d p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f max=%.3f ms",
            key,
            stats.count,
            stats.p50,
            stats.p90,
            stats.p99,
            stats.p999,
            stats.max,
        )
    if RESULTS:
        results = {
            "recorder": state.recorder.to_dict(),
            "processes": state.processes(),
            "workload": state.workload,
            "user_rate": state.user_rate,
            "started": state.started,
            "exit_code": exit_code,
        }
        Path(RESULTS).write_text(json.dumps(results))


def _rewrite_locust_csv(environment: Environment) -> None:
    """Write Locust's --csv stats, failures and exceptions once more, now that they are final.

    Locust rewrites them every second while running but not at exit, so they can miss the
    last second of requests. Its writer flushes after each rewrite (truncate flushes), so
    nothing it still holds can overwrite these.
    """
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (
        ("stats", writer.requests_csv),
        ("failures", writer.failures_csv),
        ("exceptions", writer.exceptions_csv),
    ):
        with open(f"{prefix}_{suffix}.csv", "w") as handle:
            write(csv.writer(handle))


# Locust schedules --run-time on gevent's cached loop clock, which is stale by however long
# the imports before it took (a second or more here): refreshed, runs last as long as asked.
gevent.get_hub().loop.update_now()
