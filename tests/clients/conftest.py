"""Fixtures for the client tests: one server for the package, serving test and example models.

half_plus_two has two versions so that versions and labels visibly pick one: 123 computes
0.5x + 2 (label "stable") and 124 computes 0.5x + 3 (label "canary", and the latest).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from google.protobuf import text_format

from clients import ModelConfigSpec
from tests.conftest import CACHE, ROOT
from tests.serverproc import RunningServer, start_server
from wire import protos

MODELS_CACHE = CACHE.parent / "client-test-models"
METRICS_PATH = "/monitoring/prometheus/metrics"
MAX_REQUEST_BYTES = 4 * 1024 * 1024
STABLE, CANARY = 123, 124


def _models_digest() -> str:
    digest = hashlib.sha256(b"123:offset2,124:offset3,identity:1")
    for name in ("tests/fixtures/models.py", "export/method_names.py", "export/warmup.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def client_models() -> Path:
    """half_plus_two 123 and 124 and identity 1, saved once per revision of their builders."""
    target = MODELS_CACHE / _models_digest()
    if not (target / ".complete").exists():
        from tests.fixtures.models import save_half_plus_two, save_identity

        MODELS_CACHE.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=MODELS_CACHE))
        save_half_plus_two(building / "half_plus_two" / str(STABLE), offset=2.0)
        save_half_plus_two(building / "half_plus_two" / str(CANARY), offset=3.0)
        save_identity(building / "identity" / "1")
        (building / ".complete").touch()
        try:
            os.rename(building, target)
        except OSError:  # another session finished first
            shutil.rmtree(building)
    return target


def write_monitoring_config(folder: Path) -> Path:
    path = folder / "monitoring.config"
    path.write_text(f'prometheus_config {{ enable: true path: "{METRICS_PATH}" }}')
    return path


@pytest.fixture(scope="package")
def served_models(client_models: Path, example_models: Path) -> list[ModelConfigSpec]:
    """The package server's models, as reload_config takes them."""
    return [
        ModelConfigSpec(
            "half_plus_two",
            str(client_models / "half_plus_two"),
            versions=(STABLE, CANARY),
            labels={"stable": STABLE, "canary": CANARY},
        ),
        ModelConfigSpec("identity", str(client_models / "identity")),
        ModelConfigSpec("tabular", str(example_models / "tabular"), versions=(1, 2)),
        ModelConfigSpec("digits", str(example_models / "digits")),
        ModelConfigSpec("regressor", str(example_models / "regressor")),
    ]


def write_models_config(folder: Path, models: list[ModelConfigSpec]) -> Path:
    config = protos.ModelServerConfig()
    for spec in models:
        spec.fill(config.model_config_list.config.add())
    path = folder / "models.config"
    path.write_text(text_format.MessageToString(config))
    return path


@pytest.fixture(scope="package")
def server(served_models: list[ModelConfigSpec], tmp_path_factory) -> RunningServer:
    """Every model the client tests use, with labels, a 4 MiB request limit and metrics."""
    folder = tmp_path_factory.mktemp("client-server")
    flags = [
        f"--model_config_file={write_models_config(folder, served_models)}",
        "--allow_version_labels_for_unavailable_models",
        f"--max_request_bytes={MAX_REQUEST_BYTES}",
        f"--monitoring_config_file={write_monitoring_config(folder)}",
        "--max_num_load_retries=0",
    ]
    with start_server(flags, folder) as running:
        yield running


TRANSPORTS = [pytest.param("grpc", id="grpc"), pytest.param("rest", id="rest")]


def make_client(transport: str, server: RunningServer, **kwargs):
    from clients import GrpcClient, RestClient

    if transport == "grpc":
        return GrpcClient(server.grpc, **kwargs)
    return RestClient(server.rest, **kwargs)


LOGGED_MODEL = "half_plus_two"


@pytest.fixture(scope="module")
def log_server_models(client_models: Path) -> list[ModelConfigSpec]:
    """half_plus_two 123 (stable) and 124 (canary), as the request-log modules serve it."""
    return [
        ModelConfigSpec(
            LOGGED_MODEL,
            str(client_models / LOGGED_MODEL),
            versions=(STABLE, CANARY),
            labels={"stable": STABLE, "canary": CANARY},
        )
    ]


@pytest.fixture(scope="module")
def log_server(log_server_models: list[ModelConfigSpec], tmp_path_factory) -> RunningServer:
    """A server of its own for a request-log module, with the metrics page (to see warmups)."""
    folder = tmp_path_factory.mktemp("request-log-server")
    flags = [
        f"--model_config_file={write_models_config(folder, log_server_models)}",
        f"--monitoring_config_file={write_monitoring_config(folder)}",
        "--allow_version_labels_for_unavailable_models",
        "--max_num_load_retries=0",
    ]
    with start_server(flags, folder) as running:
        yield running


@pytest.fixture(params=TRANSPORTS)
def client(request, server: RunningServer):
    """A GrpcClient and a RestClient on the package's server, closed after the test."""
    with make_client(request.param, server) as made:
        yield made


@contextlib.contextmanager
def start_servers(*runs: tuple[list[str], Path, str]) -> Iterator[list[RunningServer]]:
    """Start several servers at once (each takes seconds to import TensorFlow); stop them all."""
    managers = [start_server(flags, folder, name) for flags, folder, name in runs]
    with ThreadPoolExecutor(len(managers)) as pool:
        futures = [pool.submit(manager.__enter__) for manager in managers]
    with contextlib.ExitStack() as started:
        for manager, future in zip(managers, futures, strict=True):
            if future.exception() is None:
                started.push(manager.__exit__)
        yield [future.result() for future in futures]
