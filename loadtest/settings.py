"""What one load test runs: LoadSettings, read from options or LOADTEST_* environment variables."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CLOSED_LOOP_NOTE",
    "DEFAULT_HOSTS",
    "DEFAULT_RATE",
    "ENDPOINTS",
    "ENV_PREFIX",
    "PAYLOADS",
    "TRANSPORTS",
    "METRICS_PATH",
    "LoadSettings",
    "parse_duration",
]

# "rest-httpuser" is Locust's plain HttpUser posting the same bodies as "rest": a baseline for
# measuring the load generator's own capacity (python -m loadtest capacity), not for load tests.
TRANSPORTS = ("rest", "grpc", "rest-httpuser")
PAYLOADS = ("auto", "warmup", "metadata")
ENDPOINTS = ("inference", "status")
DEFAULT_HOSTS = {
    "rest": "http://127.0.0.1:8501",
    "grpc": "127.0.0.1:8500",
    "rest-httpuser": "http://127.0.0.1:8501",
}
ENV_PREFIX = "LOADTEST_"
METRICS_PATH = "/monitoring/prometheus/metrics"  # TF Serving's default metrics page
# Open loop (the default) sends at this many requests per second in total unless told a rate:
# low enough for any CPU model on one core to keep up, high enough for p99 to mean something
# in a 10 s run (200 requests).
DEFAULT_RATE = 20.0
# Written wherever a closed-loop run reports latency: its users wait for each answer before
# sending again, so a stalled server delays the requests that would have seen the stall.
CLOSED_LOOP_NOTE = "closed loop: not corrected for coordinated omission"
# In paced mode without --users, one user per this many requests per second: each user then
# sends every 50 ms, far above a healthy server's latency, so users are rarely all busy.
PACED_RPS_PER_USER = 20.0

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str | float) -> float:
    """Seconds in "90", "90s", "1m30s", "2h" or "500ms".

    Raises:
        ValueError: if the text is not such a duration, or not positive.
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        text = text.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"not a duration: {text!r} (e.g. 30s, 1m30s, 2h)") from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"a duration must be positive, not {text!r}")
    return seconds


@dataclass(frozen=True)
class LoadSettings:
    """One bounded load against one model: what to send, where, and how hard.

    Open loop by default: requests go out at `rate` per second in total (DEFAULT_RATE when
    not given), and latency is measured from each one's intended send time (coordinated
    omission corrected). With `closed_loop`, `users` users send back to back for `run_time`
    seconds; with `stages` a stages file shapes the number of users over time (closed loop
    too). Closed-loop numbers are labelled CLOSED_LOOP_NOTE wherever they are reported.

    Raises:
        ValueError: for an unknown transport, payload or endpoint, both version and label,
            a non-positive size or duration, or stages combined with a rate.
    """

    model: str = "tabular"
    transport: Literal["rest", "grpc", "rest-httpuser"] = "rest"
    version: int | None = None
    label: str | None = None
    signature: str | None = None
    batch_size: int = 1
    payload: Literal["auto", "warmup", "metadata"] = "auto"
    endpoint: Literal["inference", "status"] = "inference"
    models_root: Path | None = Path("models")
    host: str | None = None
    users: int | None = None
    spawn_rate: float | None = None
    run_time: float = 10.0
    rate: float | None = None
    closed_loop: bool = False
    stages: Path | None = None
    processes: int = 1
    timeout: float = 10.0
    metrics_url: str | None = None  # the server's metrics page (default: REST host's)

    def __post_init__(self) -> None:
        checks = {
            f"transport must be one of {TRANSPORTS}": self.transport in TRANSPORTS,
            f"payload must be one of {PAYLOADS}": self.payload in PAYLOADS,
            f"endpoint must be one of {ENDPOINTS}": self.endpoint in ENDPOINTS,
            "give a model version or a label, not both": self.version is None or self.label is None,
            "batch size must be at least 1": self.batch_size >= 1,
            "users must be at least 1": self.users is None or self.users >= 1,
            "spawn rate must be positive": self.spawn_rate is None or self.spawn_rate > 0,
            "run time must be positive": self.run_time > 0,
            "rate must be positive": self.rate is None or self.rate > 0,
            "paced mode (rate) and stages cannot be combined": not (self.rate and self.stages),
            "a rate is open loop: give a rate or closed loop, not both": not (
                self.rate and self.closed_loop
            ),
            "processes must be at least 1": self.processes >= 1,
            "timeout must be positive": self.timeout > 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    @property
    def target_host(self) -> str:
        """The REST base URL or gRPC target the users call."""
        return self.host or DEFAULT_HOSTS[self.transport]

    @property
    def server_metrics_url(self) -> str | None:
        """Where the server's metrics are read: as given, else the REST host's default page."""
        if self.metrics_url:
            return self.metrics_url
        if self.transport == "grpc":
            return None
        return self.target_host.rstrip("/") + METRICS_PATH

    @property
    def is_closed_loop(self) -> bool:
        """Users send back to back (closed_loop, or a stages file shaping the users)."""
        return self.closed_loop or self.stages is not None

    @property
    def mode(self) -> str:
        """The mode as the reports name it: "open loop" or "closed loop"."""
        return "closed loop" if self.is_closed_loop else "open loop"

    @property
    def target_rate(self) -> float | None:
        """Requests per second in total for an open-loop run (None in closed loop)."""
        return None if self.is_closed_loop else (self.rate or DEFAULT_RATE)

    @property
    def total_users(self) -> int:
        """Users to run: as given, else enough for the open-loop rate, else 4."""
        if self.users is not None:
            return self.users
        rate = self.target_rate
        if rate:
            return max(1, math.ceil(rate / PACED_RPS_PER_USER))
        return 4

    @property
    def total_spawn_rate(self) -> float:
        """Users started per second: as given; open-loop runs start every user at once."""
        if self.spawn_rate is not None:
            return self.spawn_rate
        return float(self.total_users) if self.target_rate else max(1.0, self.total_users / 2)

    def replace(self, **changes: Any) -> LoadSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The settings as LOADTEST_* variables, as from_env reads them (unset fields left out)."""
        env = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                env[ENV_PREFIX + field.name.upper()] = str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> LoadSettings:
        """Settings from LOADTEST_* variables (e.g. LOADTEST_MODEL, LOADTEST_RUN_TIME=30s).

        overrides whose value is not None win over the environment.

        Raises:
            ValueError: a variable that does not parse, or settings that do not validate.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None and raw != "":
                values[field.name] = _parse_field(field.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse_field(name: str, raw: str) -> Any:
    try:
        if name in ("version", "batch_size", "users", "processes"):
            return int(raw)
        if name in ("spawn_rate", "rate", "timeout"):
            return float(raw)
        if name == "run_time":
            return parse_duration(raw)
        if name in ("models_root", "stages"):
            return Path(raw)
        if name == "closed_loop":
            return _parse_bool(raw)
    except ValueError as err:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: {err}") from err
    return raw


def _parse_bool(raw: str) -> bool:
    """true/false, 1/0, yes/no (any case).

    Raises:
        ValueError: anything else.
    """
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {raw!r} (true or false)")
