"""Fixtures for the server tests: purpose-built models and a server per module.

Point the conformance tests at a real TF Serving with TFS_REST_URL (e.g. http://127.0.0.1:8501)
and TFS_GRPC_TARGET (e.g. 127.0.0.1:8500); it must serve the models that
`python -m tests.fixtures.models DIR` writes, with DIR/models.config.
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from tests.serverproc import RunningServer, start_server


@pytest.fixture(scope="session")
def fixture_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """half_plus_two (version 123) and identity (version 1), written once per session and
    test process, in a folder of its own: another process's session cannot replace them
    under a running server."""
    from tests.fixtures.models import build_all

    return build_all(tmp_path_factory.mktemp("fixture-models"))


@pytest.fixture(scope="module")
def conformance_server(fixture_models: Path, tmp_path_factory) -> RunningServer:
    rest, target = os.environ.get("TFS_REST_URL"), os.environ.get("TFS_GRPC_TARGET")
    if rest and target:
        yield RunningServer(rest.rstrip("/"), target, None, None)
        return
    flags = [f"--model_config_file={fixture_models / 'models.config'}", "--max_num_load_retries=0"]
    with start_server(flags, tmp_path_factory.mktemp("logs")) as server:
        yield server


@pytest.fixture(scope="module")
def channel(conformance_server: RunningServer):
    with grpc.insecure_channel(conformance_server.grpc) as channel:
        yield channel
