"""The model repository: polls base paths, loads and unloads versions, resolves requests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.config_rules import validate_config, validate_labels
from server.errors import Code, ServingError, invalid_argument, not_found
from server.servable import Servable
from serving_config.versions import find_version_dirs, served_versions

log = logging.getLogger(__name__)

StateListener = Callable[[str, int, str], None]
SETTLE_CHECK_S = 0.2  # how often a config's wait looks at its new models (and, at start, polls)


class ModelRepository:
    """What the server serves.

    Loads (with their retries) and unloads run on lifecycle.VersionWorkers' thread pools,
    `load_threads` and `unload_threads` wide, so no model's retries delay another model, a
    config change, a poll, a request or shutdown. Config changes, polls and requests only
    change states and schedule work, under one lock; a
    config change then waits, without a lock, for the models it adds (as TF Serving's
    ReloadConfig does), so a model that a config keeps is never waited for.
    """

    def __init__(
        self,
        loader: lc.Loader,
        allow_labels_for_unavailable: bool = False,
        max_load_retries: int = 0,
        load_retry_interval: float = 0.0,
        on_state: StateListener | None = None,
        load_threads: int = 0,
        unload_threads: int = 0,
    ) -> None:
        self._allow_unavailable_labels = allow_labels_for_unavailable
        self._on_state = on_state or (lambda name, version, state: None)
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()  # one poll or config change at a time
        self._config = model_server_config_pb2.ModelServerConfig()
        self._models: dict[str, lc.ManagedModel] = {}
        self._retired: dict[str, lc.ManagedModel] = {}
        self._stop = threading.Event()
        self._workers = lc.VersionWorkers(
            loader,
            self._lock,
            self._set_state,
            self._loaded,
            max_load_retries,
            load_retry_interval,
            load_threads,
            unload_threads,
        )

    # --- configuration -------------------------------------------------------------------

    def apply_config(
        self, config: model_server_config_pb2.ModelServerConfig, wait_forever: bool = False
    ) -> None:
        """Make `config` the served set: add, change and remove models, then wait until the
        new ones settle (loaded, or failed after their retries) and the removed ones have
        unloaded (once their requests finished). With wait_forever (start-up)
        it polls on until every new model has a version; otherwise a new model with no version
        on disk fails at once. Only stop_loading ends the wait early.

        Raises:
            ServingError: the config is invalid or a label cannot be assigned (the old config
                keeps running), or a new model did not become available (UNKNOWN).
        """
        validate_config(config)
        with self._poll_lock:
            with self._lock:
                validate_labels(config, self._models, self._allow_unavailable_labels)
                names = [c.name for c in config.model_config_list.config]
                new_names = [n for n in names if n not in self._models]
                for name in names:
                    model = self._models.get(name) or self._retired.pop(name, None)
                    self._models[name] = model or lc.ManagedModel(name)
                removed = set(self._models) - set(names)
                for name in removed:
                    self._retired[name] = self._models.pop(name)
                    self._retire(self._retired[name])
                self._config = config
            self._poll_locked()
        # Outside the locks: another config change may come meanwhile, and waits only for the
        # models it adds, never for this one's (TF Serving would queue it behind this wait).
        self._wait_settled(new_names, removed, wait_forever)
        with self._lock:
            if self._config is config:  # a newer config assigned its own labels
                self._assign_labels(config)
        self._raise_unavailable(new_names)

    def _wait_settled(self, names: list[str], removed: set[str], wait_forever: bool) -> None:
        """Until the added models settle and the removed ones' versions have unloaded (their
        loads are cancelled, not waited for)."""
        while True:
            with self._lock:
                models = [self._models[n] for n in names if n in self._models]
                pending = [m for m in models if not m.settled() and (wait_forever or m.loading())]
                retired = [self._retired.get(n) for n in removed]
                pending += [m for m in retired if m is not None and m.holds_servables()]
            if not pending or self._stop.wait(SETTLE_CHECK_S):
                return
            if wait_forever:
                self.poll()

    def _raise_unavailable(self, names: list[str]) -> None:
        failures = []
        with self._lock:
            for name in names:
                model = self._models.get(name)
                if model is None or model.available():
                    continue
                failed = model.first_failure()
                if failed and failed.error:
                    reason, version = failed.error.message, failed.version
                elif model.loading():
                    reason, version = "the server stopped while it loaded", 0
                else:
                    reason, version = "no version was found", 0
                failures.append(f"{{name: {name} version: {version}}} due to error: {reason}")
        if failures:
            raise ServingError(
                Code.UNKNOWN,
                f"{len(failures)} model(s) did not become available: {{{', '.join(failures)}, }}",
            )

    def _assign_labels(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        for entry in config.model_config_list.config:
            self._models[entry.name].labels = dict(entry.version_labels)

    @property
    def config(self) -> model_server_config_pb2.ModelServerConfig:
        with self._lock:
            return self._config

    # --- polling ---------------------------------------------------------------------------

    def poll(self) -> None:
        """Scan every base path once and schedule loads and unloads to match the policies."""
        with self._poll_lock:
            self._poll_locked()

    def _poll_locked(self) -> None:
        with self._lock:
            entries = list(self._config.model_config_list.config)
        plans = []
        for entry in entries:
            try:
                found = find_version_dirs(Path(entry.base_path))
            except OSError as err:
                # TF Serving abandons the whole poll when one base path is missing.
                log.error(
                    "Could not find base path %s for servable %s with error %s",
                    entry.base_path,
                    entry.name,
                    err,
                )
                return
            if not found:
                log.warning(
                    "No versions of servable %s found under base path %s. Did you forget to "
                    "name your leaf directory as a number (eg. '/1/')?",
                    entry.name,
                    entry.base_path,
                )
            aspired_versions = served_versions(entry.model_version_policy, found)
            plans.append((entry.name, {v: found[v] for v in aspired_versions}))
        with self._lock:
            for name, aspired in plans:
                model = self._models.get(name)
                if model is not None:
                    model.aspired = aspired
                    self._reconcile(model)

    def _reconcile(self, model: lc.ManagedModel) -> None:
        """Schedule the loads and unloads that bring model to its aspired versions (lock held)."""
        if self._stop.is_set():
            return
        for dropped in model.versions.values():
            if dropped.version not in model.aspired and dropped.state in (lc.LOADING, lc.END):
                # As in TF Serving: a version no longer aspired stops its load retries, and
                # its failure is forgotten, so that it loads again if it comes back.
                dropped.cancelled.set()
        for version in sorted(model.aspired, reverse=True):
            state = model.versions.get(version)
            # An aspired version that failed stays failed while it stays aspired.
            if state is None or (
                state.state == lc.END and (state.error is None or state.cancelled.is_set())
            ):
                self._workers.load(model, version, model.aspired[version])
        ready = model.available()
        doomed = [v for v in ready if v not in model.aspired]
        if model.aspired and len(doomed) == len(ready):
            # Availability preserving: keep serving the newest old version until a new one is up.
            doomed = doomed[:-1]
        for version in doomed:
            self._workers.unload(model, model.versions[version])

    def _retire(self, model: lc.ManagedModel) -> None:
        """Cancel the loads of a model the config dropped and unload its versions (lock held)."""
        model.aspired = {}
        for state in model.versions.values():
            if state.state in (lc.LOADING, lc.END):
                state.cancelled.set()  # loads stop; failures are forgotten if it comes back
        for version in model.available():
            self._workers.unload(model, model.versions[version])

    def _set_state(self, model: lc.ManagedModel, state: lc.VersionState, new: str) -> None:
        state.state = new
        self._on_state(model.name, state.version, new)

    def _loaded(self, model: lc.ManagedModel) -> None:
        """A version of model became AVAILABLE (lock held): unload what it replaces."""
        if self._models.get(model.name) is model:
            self._reconcile(model)

    def serves(self, name: str) -> bool:
        """Whether name is a model of the served config (a dict look-up: no lock needed)."""
        return name in self._models

    def start_polling(self, interval: float) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.poll()
                except Exception:
                    log.exception("file system poll failed")

        thread = threading.Thread(target=loop, name="fs-poll", daemon=True)
        thread.start()
        return thread

    def stop_loading(self) -> None:
        """Stop every load and retry wait, polls and config waits (a load attempt under way
        finishes, then its version is dropped); what is loaded keeps serving until close()."""
        self._stop.set()
        with self._lock:
            for model in [*self._models.values(), *self._retired.values()]:
                for state in model.loading():
                    state.cancelled.set()
        self._workers.stop_loading()

    def close(self) -> None:
        """Stop loading and unload every version, each once its requests have finished."""
        self.stop_loading()
        with self._lock:
            states = [
                (model, model.versions[version])
                for model in self._models.values()
                for version in model.available()
            ]
            for model, state in states:
                self._set_state(model, state, lc.UNLOADING)
        for model, state in states:
            self._workers.finish_unload(model, state)
        self._workers.close()

    # --- requests ----------------------------------------------------------------------------

    def _find(
        self, name: str, version: int | None, label: str | None
    ) -> tuple[lc.ManagedModel, lc.VersionState]:
        model = self._models.get(name)
        if label:
            if model is None or label not in model.labels:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            version = model.labels[label]
        state = None
        if model is not None:
            state = model.latest() if version is None else model.versions.get(version)
        if state is None or state.state != lc.AVAILABLE:
            request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise not_found(f"Servable not found for request: {request}")
        assert model is not None  # a state is only found in a model
        return model, state

    def acquire(self, name: str, version: int | None = None, label: str | None = None) -> Acquired:
        """Hold one AVAILABLE version for the duration of a request (`with acquire(...) as
        servable:`); it unloads only after.

        Raises:
            ServingError: NOT_FOUND for an unknown model or version, INVALID_ARGUMENT for an
                unknown label or an empty name.
        """
        if not name:
            raise invalid_argument("ModelSpec has no name specified.")
        with self._lock:
            model, state = self._find(name, version, label)
            state.in_flight += 1
        return Acquired(model, state)

    def status(self, name: str, version: int | None = None) -> list[lc.VersionState]:
        """Every version ever seen, newest first (or just `version`), as GetModelStatus reports.

        Raises:
            ServingError: NOT_FOUND when the model or version was never seen.
        """
        with self._lock:
            model = self._models.get(name) or self._retired.get(name)
            states = sorted(model.versions.values(), key=lambda s: -s.version) if model else []
        if version is not None:
            states = [s for s in states if s.version == version]
            if not states:
                raise not_found(f"Could not find version {version} of model {name}")
        if not states:
            raise not_found(f"Could not find any versions of model {name}")
        return states


class Acquired:
    """One request's hold on a version: its servable while the with block runs.

    A plain class rather than a @contextlib.contextmanager generator: one is made per
    request, and the generator's machinery costs several times as much.
    """

    __slots__ = ("_model", "_state")

    def __init__(self, model: lc.ManagedModel, state: lc.VersionState) -> None:
        self._model = model
        self._state = state

    def __enter__(self) -> Servable:
        servable = self._state.servable
        assert servable is not None  # an AVAILABLE version holds its servable
        return servable

    def __exit__(self, *exc_info: object) -> None:
        idle = self._model.idle
        with idle:
            self._state.in_flight -= 1
            idle.notify_all()
