"""The model repository: polls base paths, loads and unloads versions, resolves requests."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.config_rules import validate_config, validate_labels
from server.errors import Code, ServingError, invalid_argument, not_found
from server.servable import Servable
from serving_config.versions import find_version_dirs, served_versions

log = logging.getLogger(__name__)

Loader = Callable[[str, int, Path], Servable]
StateListener = Callable[[str, int, str], None]


class ModelRepository:
    """What the server serves. One poll runs at a time; loads happen outside the lock."""

    def __init__(
        self,
        loader: Loader,
        allow_labels_for_unavailable: bool = False,
        max_load_retries: int = 0,
        load_retry_interval: float = 0.0,
        on_state: StateListener | None = None,
    ) -> None:
        self._loader = loader
        self._allow_unavailable_labels = allow_labels_for_unavailable
        self._max_load_retries = max_load_retries
        self._retry_interval = load_retry_interval
        self._on_state = on_state or (lambda name, version, state: None)
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()
        self._config = model_server_config_pb2.ModelServerConfig()
        self._models: dict[str, lc.ManagedModel] = {}
        self._retired: dict[str, lc.ManagedModel] = {}
        self._stop = threading.Event()

    # --- configuration -------------------------------------------------------------------

    def apply_config(
        self, config: model_server_config_pb2.ModelServerConfig, wait_forever: bool = False
    ) -> None:
        """Make `config` the served set: add, change and remove models, then wait for new ones.

        Raises:
            ServingError: the config is invalid or a label cannot be assigned (the old config
                keeps running), or a new model did not become available (UNKNOWN).
        """
        validate_config(config)
        with self._poll_lock:
            with self._lock:
                validate_labels(config, self._models, self._allow_unavailable_labels)
                new_names = [
                    c.name for c in config.model_config_list.config if c.name not in self._models
                ]
                for entry in config.model_config_list.config:
                    model = self._models.get(entry.name) or self._retired.pop(entry.name, None)
                    self._models[entry.name] = model or lc.ManagedModel(entry.name)
                removed = set(self._models) - {c.name for c in config.model_config_list.config}
                for name in removed:
                    self._retired[name] = self._models.pop(name)
                self._config = config
            for name in removed:
                self._unload_all(self._retired[name])
            self._poll_locked()
            while wait_forever and not self._stop.is_set() and not self._all_settled(new_names):
                time.sleep(0.2)
                self._poll_locked()
            with self._lock:
                self._assign_labels(config)
        self._raise_unavailable(new_names)

    def _all_settled(self, names: list[str]) -> bool:
        with self._lock:
            return all(self._models[n].settled() for n in names if n in self._models)

    def _raise_unavailable(self, names: list[str]) -> None:
        failures = []
        with self._lock:
            for name in names:
                model = self._models.get(name)
                if model is None or model.available():
                    continue
                failed = model.first_failure()
                reason = failed.error.message if failed and failed.error else "no version was found"
                version = failed.version if failed else 0
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
        """Scan every base path once and load or unload versions to match the policies."""
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
        for name, aspired in plans:
            self._reconcile(name, aspired)

    def _reconcile(self, name: str, aspired: dict[int, Path]) -> None:
        with self._lock:
            model = self._models.get(name)
            if model is None:
                return
            fresh = [
                v
                for v in sorted(aspired, reverse=True)
                if v not in model.versions
                or (model.versions[v].state == lc.END and model.versions[v].error is None)
            ]
        for version in fresh:
            self._load(model, version, aspired[version])
        with self._lock:
            aspired_ready = [v for v in model.available() if v in aspired]
            doomed = [v for v in model.available() if v not in aspired]
            if not aspired_ready and aspired:
                # Availability preserving: keep serving the newest old version until a new one is up.
                doomed = doomed[:-1]
        for version in doomed:
            self._unload(model, version)

    def _set_state(self, model: lc.ManagedModel, state: lc.VersionState, new: str) -> None:
        state.state = new
        self._on_state(model.name, state.version, new)

    def _load(self, model: lc.ManagedModel, version: int, path: Path) -> None:
        with self._lock:
            state = lc.VersionState(version)
            model.versions[version] = state
            self._set_state(model, state, lc.LOADING)
        for attempt in range(self._max_load_retries + 1):
            try:
                servable = self._loader(model.name, version, path)
                break
            except Exception as err:
                error = (
                    err if isinstance(err, ServingError) else ServingError(Code.UNKNOWN, str(err))
                )
                log.error(
                    "Loading %s version %d failed (attempt %d): %s",
                    model.name,
                    version,
                    attempt + 1,
                    error.message,
                )
                if attempt < self._max_load_retries:
                    time.sleep(self._retry_interval)
        else:
            with self._lock:
                state.error = error
                self._set_state(model, state, lc.END)
            return
        with self._lock:
            state.servable = servable
            self._set_state(model, state, lc.AVAILABLE)
        log.info("Successfully loaded servable version {name: %s version: %d}", model.name, version)

    def _unload(self, model: lc.ManagedModel, version: int) -> None:
        with self._lock:
            state = model.versions[version]
            self._set_state(model, state, lc.UNLOADING)
        with model.idle:
            model.idle.wait_for(lambda: state.in_flight == 0)
        with self._lock:
            servable, state.servable = state.servable, None
            self._set_state(model, state, lc.END)
        if servable is not None:
            servable.close()
        log.info("Unloaded servable version {name: %s version: %d}", model.name, version)

    def _unload_all(self, model: lc.ManagedModel) -> None:
        for version in model.available():
            self._unload(model, version)

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

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            models = list(self._models.values())
        for model in models:
            self._unload_all(model)

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
