"""Locust load tests over REST and gRPC with HDR latency, an SLO gate and reports.

    from loadtest import LoadSettings, Slo, run_load
    summary = run_load(LoadSettings(model="tabular", label="canary"), slo=Slo(p99_ms=50))

Importing the package does not import Locust (nor gevent's monkey-patching): runs happen in a
Locust subprocess.
"""

from __future__ import annotations

from loadtest.gate import Slo, check_slo, load_slo
from loadtest.heldout import HeldOut, held_out_examples
from loadtest.runner import LoadTestError, prepare, run_load
from loadtest.settings import LoadSettings
from loadtest.summary import RequestSummary, RunSummary

__all__ = [
    "HeldOut",
    "LoadSettings",
    "LoadTestError",
    "RequestSummary",
    "RunSummary",
    "Slo",
    "check_slo",
    "held_out_examples",
    "load_slo",
    "prepare",
    "run_load",
]
