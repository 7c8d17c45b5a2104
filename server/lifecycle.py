"""Version states (as GetModelStatus reports them) and the threads that load and unload versions."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from server.errors import Code, ServingError
from server.servable import Servable

log = logging.getLogger(__name__)

Loader = Callable[[str, int, Path], Servable]

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


class VersionWorkers:
    """Loads versions (with their retries) and unloads them on two thread pools.

    load_threads and unload_threads size the pools (0 means one thread, as TF Serving's manager
    loop loads and unloads serially). A retry's wait holds no pool thread: it waits on the
    version's `cancelled` event on a thread of its own, so retries delay no other version.
    Every state change is made under `lock`, the repository's.
    """

    def __init__(
        self,
        loader: Loader,
        lock: threading.RLock,
        set_state: Callable[[ManagedModel, VersionState, str], None],
        on_loaded: Callable[[ManagedModel], None],
        max_load_retries: int,
        retry_interval: float,
        load_threads: int,
        unload_threads: int,
    ) -> None:
        self._loader = loader
        self._lock = lock
        self._set_state = set_state
        self._on_loaded = on_loaded  # called with the lock held
        self._max_load_retries = max_load_retries
        self._retry_interval = retry_interval
        self._loads = ThreadPoolExecutor(max(1, load_threads), thread_name_prefix="load")
        self._unloads = ThreadPoolExecutor(max(1, unload_threads), thread_name_prefix="unload")

    def load(self, model: ManagedModel, version: int, path: Path) -> None:
        """Start loading a version (lock held): it is LOADING until it is AVAILABLE or END."""
        state = VersionState(version)
        model.versions[version] = state
        self._set_state(model, state, LOADING)
        self._submit(model, state, path, 0, None)

    def unload(self, model: ManagedModel, state: VersionState) -> None:
        """Start unloading an AVAILABLE version (lock held); it ends once its requests finish."""
        self._set_state(model, state, UNLOADING)
        try:
            self._unloads.submit(self.finish_unload, model, state)
        except RuntimeError:  # the pool is shut down: the server is stopping
            threading.Thread(target=self.finish_unload, args=(model, state), daemon=True).start()

    def finish_unload(self, model: ManagedModel, state: VersionState) -> None:
        """Wait for an UNLOADING version's requests to finish, then free it."""
        with model.idle:
            model.idle.wait_for(lambda: state.in_flight == 0)
        with self._lock:
            servable, state.servable = state.servable, None
            self._set_state(model, state, END)
        if servable is not None:
            servable.close()
        log.info("Unloaded servable version {name: %s version: %d}", model.name, state.version)

    def stop_loading(self) -> None:
        """Start no more load attempts (cancel the versions first: their waits end at once)."""
        self._loads.shutdown(wait=False)

    def close(self) -> None:
        self._loads.shutdown(wait=False)
        self._unloads.shutdown(wait=False)

    def _submit(
        self,
        model: ManagedModel,
        state: VersionState,
        path: Path,
        attempt: int,
        error: ServingError | None,
    ) -> None:
        try:
            self._loads.submit(self._attempt, model, state, path, attempt, error)
        except RuntimeError:  # the pool is shut down: the server is stopping
            self._end(model, state, error or _cancelled(model, state))

    def _attempt(
        self,
        model: ManagedModel,
        state: VersionState,
        path: Path,
        attempt: int,
        error: ServingError | None,
    ) -> None:
        """One try at loading a version, on a load thread; a failure schedules the next."""
        if state.cancelled.is_set():
            self._end(model, state, error or _cancelled(model, state))
            return
        try:
            servable = self._loader(model.name, state.version, path)
        except Exception as err:
            error = err if isinstance(err, ServingError) else ServingError(Code.UNKNOWN, str(err))
            log.error(
                "Loading %s version %d failed (attempt %d): %s",
                model.name,
                state.version,
                attempt + 1,
                error.message,
            )
            if attempt < self._max_load_retries and not state.cancelled.is_set():
                self._retry_later(model, state, path, attempt + 1, error)
            else:
                self._end(model, state, error)
            return
        with self._lock:
            if not state.cancelled.is_set():
                state.servable = servable
                self._set_state(model, state, AVAILABLE)
                log.info(
                    "Successfully loaded servable version {name: %s version: %d}",
                    model.name,
                    state.version,
                )
                self._on_loaded(model)
                return
            self._set_state(model, state, END)  # no longer wanted: loaded, then dropped
        servable.close()

    def _retry_later(
        self,
        model: ManagedModel,
        state: VersionState,
        path: Path,
        attempt: int,
        error: ServingError,
    ) -> None:
        """Try again after the retry interval, unless the version is cancelled meanwhile."""

        def wait_then_retry() -> None:
            if state.cancelled.wait(self._retry_interval):
                log.info("Load retries of %s version %d cancelled", model.name, state.version)
                self._end(model, state, error)
            else:
                self._submit(model, state, path, attempt, error)

        name = f"load-retry-{model.name}-{state.version}"
        threading.Thread(target=wait_then_retry, name=name, daemon=True).start()

    def _end(self, model: ManagedModel, state: VersionState, error: ServingError) -> None:
        with self._lock:
            state.error = error
            self._set_state(model, state, END)


def _cancelled(model: ManagedModel, state: VersionState) -> ServingError:
    return ServingError(
        Code.CANCELLED,
        f"Loading of servable version {{name: {model.name} version: {state.version}}} cancelled",
    )
