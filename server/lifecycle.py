"""Version states of one model: loading, serving, unloading, and what GetModelStatus reports."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from server.errors import Code, ServingError
from server.servable import Servable

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


@dataclasses.dataclass
class VersionState:
    """One version as the server sees it; `error` is set when it ended by failing."""

    version: int
    state: str = START
    error: ServingError | None = None
    servable: Servable | None = None
    in_flight: int = 0
    # Set when the version is no longer wanted (or the server stops) while it loads: a queued
    # attempt does not start and a retry wait ends at once.
    cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def status(self) -> tuple[Code, str]:
        if self.error is None:
            return Code.OK, ""
        return self.error.code, self.error.message


class ManagedModel:
    """The versions of one model and its labels; the repository's lock guards every field."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.versions: dict[int, VersionState] = {}
        self.labels: dict[str, int] = {}
        self.aspired: dict[int, Path] = {}  # what the last poll found to serve, by version
        self.idle = threading.Condition()

    def available(self) -> list[int]:
        return sorted(v for v, s in self.versions.items() if s.state == AVAILABLE)

    def latest(self) -> VersionState | None:
        ready = self.available()
        return self.versions[ready[-1]] if ready else None

    def settled(self) -> bool:
        """True once no version is loading and some version is AVAILABLE or has ended: the
        wait of TF Serving's startup and of a reload for the models they add."""
        states = {s.state for s in self.versions.values()}
        return not states & {START, LOADING} and bool(states & {AVAILABLE, END})

    def holds_servables(self) -> bool:
        """True while some version serves or is unloading."""
        return any(s.state in (AVAILABLE, UNLOADING) for s in self.versions.values())

    def loading(self) -> list[VersionState]:
        return [s for s in self.versions.values() if s.state in (START, LOADING)]

    def first_failure(self) -> VersionState | None:
        if self.available():
            return None
        failed = [s for s in self.versions.values() if s.state == END and s.error is not None]
        return max(failed, key=lambda s: s.version) if failed else None
