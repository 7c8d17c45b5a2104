"""Loads, load retries and unloads run on their own threads: a retrying version delays no other
model, no reload, no request and no shutdown; --num_load_threads sets how many load at once.

The first tests drive ModelRepository with a loader whose versions fail, or block on an Event
until the test lets them go; the last ones run `python -m server` on loopback.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import requests
from tensorflow_serving.apis import (
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.errors import Code, ServingError
from server.repository import ModelRepository
from tests.serverproc import ROOT, free_port, start_server
from tests.support import waiting

LONG_RETRY_S = 300.0  # a retry wait that no test may sit through
BOUND_S = 20.0  # generous bound for what must happen well before LONG_RETRY_S


def wait_for(condition: Callable[[], bool], what: str, timeout: float = BOUND_S) -> None:
    waiting.wait_for(condition, what, timeout, interval=0.05)


# --- ModelRepository with a fake loader ----------------------------------------------------------


class FakeServable:
    def __init__(self, name: str, version: int) -> None:
        self.name, self.version = name, version
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


class FakeLoader:
    """Loads every version, except those told to fail (always) or to block until released.

    `calls` counts attempts per (name, version); `entered` is set when an attempt starts;
    `active` and `peak` count attempts under way at once.
    """

    def __init__(self) -> None:
        self.failing: set[tuple[str, int]] = set()
        self.gates: dict[tuple[str, int], threading.Event] = {}
        self.entered: dict[tuple[str, int], threading.Event] = {}
        self.calls: dict[tuple[str, int], int] = {}
        self.lock = threading.Lock()
        self.active = self.peak = 0

    def block(self, name: str, version: int) -> threading.Event:
        self.gates[(name, version)] = threading.Event()
        self.entered[(name, version)] = threading.Event()
        return self.gates[(name, version)]

    def __call__(self, name: str, version: int, path: Path) -> FakeServable:
        key = (name, version)
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if key in self.entered:
                self.entered[key].set()
            if key in self.gates:
                assert self.gates[key].wait(BOUND_S * 3), f"{key} was never released"
            if key in self.failing:
                raise ServingError(Code.NOT_FOUND, f"{name} {version} is corrupt")
            return FakeServable(name, version)
        finally:
            with self.lock:
                self.active -= 1


def config_of(tmp_path: Path, *names: str) -> model_server_config_pb2.ModelServerConfig:
    config = model_server_config_pb2.ModelServerConfig()
    for name in names:
        config.model_config_list.config.add(
            name=name, base_path=str(tmp_path / name), model_platform="tensorflow"
        )
    return config


def add_version(tmp_path: Path, name: str, version: int) -> None:
    (tmp_path / name / str(version)).mkdir(parents=True)


def state_of(repository: ModelRepository, name: str, version: int) -> str:
    try:
        return repository.status(name, version)[0].state
    except ServingError:
        return "absent"


@pytest.fixture
def loader() -> FakeLoader:
    return FakeLoader()


@pytest.fixture
def make_repository(loader: FakeLoader) -> Iterator[Callable[..., ModelRepository]]:
    made: list[ModelRepository] = []

    def make(**options: object) -> ModelRepository:
        options = {"max_load_retries": 100, "load_retry_interval": LONG_RETRY_S, **options}
        made.append(ModelRepository(loader, **options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for repository in made:
        repository.close()


def start_retrying(repository: ModelRepository, loader: FakeLoader, tmp_path: Path) -> None:
    """Serve a (version 1) and b (version 1); then a's corrupt version 2 starts its retries."""
    for name in ("a", "b"):
        add_version(tmp_path, name, 1)
    repository.apply_config(config_of(tmp_path, "a", "b"))
    loader.failing.add(("a", 2))
    add_version(tmp_path, "a", 2)
    repository.poll()
    wait_for(lambda: loader.calls.get(("a", 2), 0) >= 1, what="a's version 2 to fail once")
    assert state_of(repository, "a", 2) == lc.LOADING


def test_a_retrying_version_delays_no_other_model_and_no_reload(
    make_repository, loader, tmp_path
) -> None:
    repository = make_repository()
    start_retrying(repository, loader, tmp_path)
    started = time.monotonic()
    repository.apply_config(config_of(tmp_path, "a", "b"))  # keeps a: does not wait for it
    add_version(tmp_path, "b", 2)
    repository.poll()
    wait_for(lambda: state_of(repository, "b", 2) == lc.AVAILABLE, what="b's version 2")
    assert time.monotonic() - started < BOUND_S
    with repository.acquire("a") as servable:
        assert servable.version == 1  # availability preserved while 2 retries
    assert state_of(repository, "a", 2) == lc.LOADING
    assert loader.calls[("a", 2)] == 1  # the next try waits for the retry interval


def test_a_reload_waits_for_the_models_it_adds(make_repository, loader, tmp_path) -> None:
    repository = make_repository(max_load_retries=0)
    add_version(tmp_path, "a", 1)
    repository.apply_config(config_of(tmp_path, "a"))
    add_version(tmp_path, "b", 1)
    gate = loader.block("b", 1)
    finished: list[BaseException | None] = []

    def reload() -> None:
        try:
            repository.apply_config(config_of(tmp_path, "a", "b"))
            finished.append(None)
        except BaseException as err:
            finished.append(err)

    thread = threading.Thread(target=reload)
    thread.start()
    assert loader.entered[("b", 1)].wait(BOUND_S)
    assert finished == [] and state_of(repository, "b", 1) == lc.LOADING
    # A second reload of the same config adds nothing: it does not queue behind the first.
    again = threading.Thread(target=repository.apply_config, args=(config_of(tmp_path, "a", "b"),))
    again.start()
    again.join(BOUND_S)
    assert not again.is_alive() and finished == []
    gate.set()
    thread.join(BOUND_S)
    assert finished == [None]
    assert state_of(repository, "b", 1) == lc.AVAILABLE


def test_dropping_a_retrying_model_ends_its_retries(make_repository, loader, tmp_path) -> None:
    repository = make_repository()
    start_retrying(repository, loader, tmp_path)
    repository.apply_config(config_of(tmp_path, "b"))
    assert state_of(repository, "a", 1) == lc.END  # unloaded before the reload answered
    wait_for(lambda: state_of(repository, "a", 2) == lc.END, what="a's version 2 to end")
    status = repository.status("a", 2)[0]
    assert status.error is not None and "corrupt" in status.error.message
    assert loader.calls[("a", 2)] == 1


def test_a_failed_version_loads_again_once_dropped_and_back(
    make_repository, loader, tmp_path
) -> None:
    repository = make_repository(max_load_retries=0)
    for name in ("a", "b"):
        add_version(tmp_path, name, 1)
    loader.failing.add(("a", 1))
    with pytest.raises(ServingError, match="did not become available"):
        repository.apply_config(config_of(tmp_path, "a", "b"))
    repository.poll()  # still aspired: a failed version is not tried again
    assert loader.calls[("a", 1)] == 1
    loader.failing.clear()  # e.g. the files were fixed
    repository.apply_config(config_of(tmp_path, "b"))
    repository.apply_config(config_of(tmp_path, "a", "b"))
    assert loader.calls[("a", 1)] == 2
    assert state_of(repository, "a", 1) == lc.AVAILABLE


def test_stop_loading_ends_a_startup_wait_on_a_retrying_model(
    make_repository, loader, tmp_path
) -> None:
    repository = make_repository()
    add_version(tmp_path, "a", 1)
    loader.failing.add(("a", 1))
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            repository.apply_config(config_of(tmp_path, "a"), wait_forever=True)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=start)
    thread.start()
    wait_for(lambda: loader.calls.get(("a", 1), 0) >= 1, what="the first attempt")
    repository.stop_loading()
    thread.join(BOUND_S)
    assert not thread.is_alive()
    assert isinstance(outcome[0], ServingError) and "did not become available" in str(outcome[0])
    wait_for(lambda: state_of(repository, "a", 1) == lc.END, what="a's version 1 to end")
    assert loader.calls[("a", 1)] == 1


def test_one_load_thread_loads_one_version_at_a_time(make_repository, loader, tmp_path) -> None:
    repository = make_repository(load_threads=0)  # TF Serving's default
    for name in ("a", "b"):
        add_version(tmp_path, name, 1)
    gates = {name: loader.block(name, 1) for name in ("a", "b")}
    reload = threading.Thread(target=repository.apply_config, args=(config_of(tmp_path, "a", "b"),))
    reload.start()
    assert loader.entered[("a", 1)].wait(BOUND_S)  # the config's order
    assert not loader.entered[("b", 1)].wait(0.5)  # queued behind a
    gates["a"].set()
    assert loader.entered[("b", 1)].wait(BOUND_S)
    gates["b"].set()
    reload.join(BOUND_S)
    assert loader.peak == 1
    assert {state_of(repository, n, 1) for n in ("a", "b")} == {lc.AVAILABLE}


def test_two_load_threads_load_two_versions_at_once(make_repository, loader, tmp_path) -> None:
    repository = make_repository(load_threads=2)
    for name in ("a", "b"):
        add_version(tmp_path, name, 1)
    gates = [loader.block(name, 1) for name in ("a", "b")]
    reload = threading.Thread(target=repository.apply_config, args=(config_of(tmp_path, "a", "b"),))
    reload.start()
    # Both attempts are under way while neither may finish: they run at once.
    assert loader.entered[("a", 1)].wait(BOUND_S) and loader.entered[("b", 1)].wait(BOUND_S)
    assert loader.peak == 2
    for gate in gates:
        gate.set()
    reload.join(BOUND_S)
    assert {state_of(repository, n, 1) for n in ("a", "b")} == {lc.AVAILABLE}


def test_an_unload_waiting_for_a_request_blocks_no_poll(make_repository, loader, tmp_path) -> None:
    repository = make_repository()
    add_version(tmp_path, "a", 1)
    repository.apply_config(config_of(tmp_path, "a"))
    held = repository.acquire("a")
    old = held.__enter__()
    add_version(tmp_path, "a", 2)
    repository.poll()
    wait_for(lambda: state_of(repository, "a", 1) == lc.UNLOADING, what="version 1 to unload")
    add_version(tmp_path, "a", 3)
    repository.poll()  # not held up by the unload that waits for the request
    wait_for(lambda: state_of(repository, "a", 3) == lc.AVAILABLE, what="version 3")
    assert state_of(repository, "a", 1) == lc.UNLOADING and not old.closed.is_set()
    held.__exit__(None, None, None)
    wait_for(lambda: state_of(repository, "a", 1) == lc.END, what="version 1 to end")
    assert old.closed.is_set()


# --- python -m server on loopback ----------------------------------------------------------------

RETRY_FLAGS = [
    "--max_num_load_retries=100",
    f"--load_retry_interval_micros={int(LONG_RETRY_S * 1e6)}",
]


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Two exported half_plus_two versions (y = 0.5x + 2 and + 3), ready to copy in."""
    from tests.fixtures.models import save_half_plus_two

    root = tmp_path_factory.mktemp("library")
    for version, offset in ((1, 2.0), (2, 3.0)):
        save_half_plus_two(root / str(version), offset=offset)
    return root


def publish(library: Path, base: Path, version: int, corrupt: bool = False) -> None:
    """Copy an exported version in (damaged when corrupt), built beside and renamed in."""
    staging = base / f".staging-{version}"
    shutil.copytree(library / "1", staging)
    if corrupt:
        (staging / "saved_model.pb").write_bytes(b"this is not a SavedModel")
    else:
        shutil.rmtree(staging)
        shutil.copytree(library / str(version), staging)
    os.rename(staging, base / str(version))


def models_config(tmp_path: Path, *names: str) -> model_server_config_pb2.ModelServerConfig:
    config = config_of(tmp_path, *names)
    (tmp_path / "models.config").write_text(str(config))
    return config


def rest_state(server, name: str, version: int) -> str:
    response = requests.get(f"{server.rest}/v1/models/{name}/versions/{version}", timeout=10)
    if response.status_code != 200:
        return "absent"
    return str(response.json()["model_version_status"][0]["state"])


def grpc_predict(channel: grpc.Channel, name: str) -> float:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["x"].dtype = 1  # DT_FLOAT
    request.inputs["x"].tensor_shape.dim.add(size=1)
    request.inputs["x"].float_val.append(2.0)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    return float(stub.Predict(request, timeout=10).outputs["y"].float_val[0])


def rest_predict(server, name: str) -> float:
    url = f"{server.rest}/v1/models/{name}:predict"
    response = requests.post(url, json={"instances": [2.0]}, timeout=10)
    assert response.status_code == 200, response.text
    return float(response.json()["predictions"][0])


def failed_attempts(server, name: str, version: int) -> int:
    return server.log().count(f"Loading {name} version {version} failed")


@pytest.mark.slow
def test_a_retrying_load_blocks_no_reload_version_or_request(library, tmp_path) -> None:
    """r's version 2 retries every 5 minutes; meanwhile reloads answer, m's version 2 comes up,
    requests to m keep answering after reload callers gave up, and SIGTERM stops the server."""
    for name in ("m", "r", "x"):
        (tmp_path / name).mkdir()
        publish(library, tmp_path / name, 1, corrupt=name == "x")
    config = models_config(tmp_path, "m", "r")
    flags = [
        f"--model_config_file={tmp_path / 'models.config'}",
        "--file_system_poll_wait_seconds=1",
        "--grpc_max_threads=4",  # few, so that reload calls stuck on the retries would show
        *RETRY_FLAGS,
    ]
    with start_server(flags, tmp_path) as server, grpc.insecure_channel(server.grpc) as channel:
        publish(library, tmp_path / "r", 2, corrupt=True)
        wait_for(lambda: failed_attempts(server, "r", 2) >= 1, what="r's version 2 to fail")
        models = model_service_pb2_grpc.ModelServiceStub(channel)
        reload = model_management_pb2.ReloadConfigRequest(config=config)
        models.HandleReloadConfigRequest(reload, timeout=BOUND_S)  # keeps r: no wait for it
        publish(library, tmp_path / "m", 2)
        wait_for(lambda: rest_state(server, "m", 2) == "AVAILABLE", what="m's version 2")

        # Reloads that add x, whose only version retries too: the one that adds it waits for
        # x's retries, long after its caller gave up; the others add nothing and answer.
        with_x = model_management_pb2.ReloadConfigRequest(config=config_of(tmp_path, "m", "r", "x"))
        outcomes: list[grpc.StatusCode] = []

        def impatient_reload() -> None:
            try:
                models.HandleReloadConfigRequest(with_x, timeout=3)
                outcomes.append(grpc.StatusCode.OK)
            except grpc.RpcError as err:
                outcomes.append(err.code())

        callers = [threading.Thread(target=impatient_reload) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(BOUND_S)
        assert len(outcomes) == 8
        assert set(outcomes) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}
        models.HandleReloadConfigRequest(with_x, timeout=BOUND_S)  # not queued behind x
        assert rest_state(server, "x", 1) == "LOADING"
        assert grpc_predict(channel, "m") == 4.0  # version 2: 0.5 * 2 + 3
        assert rest_predict(server, "m") == 4.0
        assert rest_predict(server, "r") == 3.0  # r's version 1 serves during the retries
        assert rest_state(server, "r", 2) == "LOADING"
        assert failed_attempts(server, "r", 2) == 1  # all of it within the first retry wait

        server.process.send_signal(signal.SIGTERM)  # with a reload still waiting for x
        assert server.process.wait(timeout=15) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "sent", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
def test_a_signal_during_startup_retries_stops_the_server(library, tmp_path, sent) -> None:
    """Start-up waits for a model whose only version retries every 5 minutes; a signal ends
    the wait and the process at once, with exit code 0 and no open ports."""
    from launcher import launch, port_open, process_env

    base = tmp_path / "r"
    base.mkdir()
    publish(library, base, 1, corrupt=True)
    grpc_port, rest_port = free_port(), free_port()
    ports = [f"--port={grpc_port}", f"--rest_api_port={rest_port}"]
    command = [sys.executable, "-m", "server", *ports, f"--model_base_path={base}"]
    command += ["--model_name=r", *RETRY_FLAGS]
    log = tmp_path / "server.log"
    process = launch("server", command, log, cwd=ROOT, env=process_env())
    try:
        wait_for(
            lambda: "Loading r version 1 failed" in log.read_text(errors="replace"),
            timeout=300,  # TensorFlow's import first
            what="the first failed attempt",
        )
        assert not port_open(rest_port)  # still starting: ports open only after the loads
        process.send_signal(sent)
        assert process.wait(timeout=15) == 0
        assert "stopping: a signal came during start-up" in log.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
