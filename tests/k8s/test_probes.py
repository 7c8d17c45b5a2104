"""The probe endpoints, proven against the embedded server (it follows TF Serving's contract).

Readiness must fail until the model has an AVAILABLE version: GET /v1/models/<m>/metadata
resolves Latest and answers 404 before that. GET /v1/models/<m> (status) answers 200 as soon
as the model has versions in any state, so it suits liveness and start-up, never readiness.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import grpc
import requests
from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc

from tests.k8s.embedded import serve
from tests.k8s.objects import probe_path
from tests.support.waiting import wait_for


def reload_config(channel: grpc.Channel, models: dict[str, Path]) -> None:
    """Apply a new model list through ModelService/HandleReloadConfigRequest."""
    request = model_management_pb2.ReloadConfigRequest()
    for name, base in models.items():
        request.config.model_config_list.config.add(
            name=name, base_path=str(base), model_platform="tensorflow"
        )
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    # A model with no loadable version makes the reload answer an error (TF Serving would
    # wait for one), but the model stays configured, as in TF Serving.
    with contextlib.suppress(grpc.RpcError):
        stub.HandleReloadConfigRequest(request, timeout=10)


def publish(source: Path, base: Path, version: int) -> None:
    """Put a version in place the way export does: build beside, rename into place."""
    staging = base / f".staging-{version}"
    shutil.copytree(source, staging)
    os.rename(staging, base / str(version))


def corrupt(base: Path, version: int) -> None:
    staging = base / f".staging-{version}"
    staging.mkdir()
    (staging / "saved_model.pb").write_bytes(b"not a SavedModel")
    os.rename(staging, base / str(version))


def test_readiness_fails_until_a_version_is_available_and_liveness_answers_throughout(
    example_models: Path, rendered, tmp_path: Path
) -> None:
    objects = rendered["prod"]
    ready_path = probe_path(objects, "readinessProbe")
    match = re.fullmatch(r"/v1/models/([^/]+)/metadata", ready_path)
    assert match, f"readiness probe {ready_path} is not a model's metadata endpoint"
    model = match[1]
    live_path = probe_path(objects, "livenessProbe")
    assert live_path == probe_path(objects, "startupProbe") == f"/v1/models/{model}"

    # A server that already serves another model, so the probed one can arrive later.
    keeper, base = tmp_path / "keeper", tmp_path / model
    keeper.mkdir()
    base.mkdir()
    publish(example_models / "regressor" / "1", keeper, 1)
    flags = [
        f"--model_base_path={keeper}",
        "--model_name=keeper",
        "--file_system_poll_wait_seconds=1",
        "--max_num_load_retries=0",
    ]
    with serve(flags) as server, grpc.insecure_channel(server.grpc) as channel:

        def get(path: str) -> requests.Response:
            return requests.get(server.rest + path, timeout=10)

        def states() -> dict[str, str]:
            body = get(live_path).json()
            return {s["version"]: s["state"] for s in body.get("model_version_status", [])}

        # No version at all: neither endpoint can answer for the model yet.
        reload_config(channel, {"keeper": keeper, model: base})
        assert get(ready_path).status_code == 404
        assert "Servable not found" in get(ready_path).json()["error"]
        assert get(live_path).status_code == 404  # "Could not find any versions of model"

        # The only version failed to load (END): status says so with 200, metadata stays 404.
        corrupt(base, 1)
        wait_for(lambda: states().get("1") == "END", "version 1 to fail")
        assert get(live_path).status_code == 200
        assert get(ready_path).status_code == 404

        # A good version arrives: metadata turns 200 exactly when it is AVAILABLE.
        publish(example_models / "tabular" / "1", base, 2)
        wait_for(lambda: get(ready_path).status_code == 200, "metadata to answer 200")
        assert states()["2"] == "AVAILABLE"
        assert get(ready_path).json()["model_spec"]["version"] == "2"
        assert get(live_path).status_code == 200
