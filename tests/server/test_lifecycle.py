"""Model lifecycle: new versions, failed loads, switches under load, labels, policies, reloads."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import grpc
import pytest
import requests
from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2

from tests.fixtures.models import save_half_plus_two
from tests.serverproc import start_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow  # end to end: a server process per start-up and reload scenario

OFFSETS = {1: 2.0, 2: 3.0, 3: 4.0}


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """half_plus_two variants y = 0.5x + offset, one per version number, ready to copy in."""
    root = tmp_path_factory.mktemp("library")
    for version, offset in OFFSETS.items():
        save_half_plus_two(root / str(version), offset=offset)
    return root


def publish(library: Path, base: Path, version: int, as_version: int | None = None) -> None:
    """Copy a version in the way export does: build beside, then rename into place."""
    target = base / str(as_version or version)
    staging = base / f".staging-{target.name}"
    shutil.copytree(library / str(version), staging)
    os.rename(staging, target)


def corrupt(base: Path, version: int) -> None:
    staging = base / f".staging-{version}"
    staging.mkdir()
    (staging / "saved_model.pb").write_bytes(b"this is not a SavedModel")
    os.rename(staging, base / str(version))


def predict(server, x: float = 2.0, path: str = "/v1/models/m:predict") -> float:
    response = requests.post(server.rest + path, json={"instances": [x]}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["predictions"][0]


def status(server, name: str = "m") -> dict[str, dict]:
    body = requests.get(f"{server.rest}/v1/models/{name}", timeout=30).json()
    return {s["version"]: s for s in body.get("model_version_status", [])}


def test_new_version_is_picked_up_and_a_corrupt_one_keeps_the_old(library, tmp_path) -> None:
    base = tmp_path / "m"
    base.mkdir()
    publish(library, base, 1)
    flags = [f"--model_base_path={base}", "--model_name=m", "--max_num_load_retries=0"]
    with start_server(flags, tmp_path) as server:
        assert predict(server) == 3.0
        publish(library, base, 2)
        wait_for(lambda: predict(server) == 4.0, what="version 2 to serve")
        wait_for(lambda: status(server)["1"]["state"] == "END", what="version 1 to unload")
        assert status(server)["1"]["status"]["error_code"] == "OK"
        corrupt(base, 3)
        wait_for(
            lambda: status(server).get("3", {}).get("state") == "END", what="version 3 to fail"
        )
        failed = status(server)["3"]["status"]
        assert failed["error_code"] != "OK" and failed["error_message"]
        assert status(server)["2"]["state"] == "AVAILABLE"
        assert predict(server) == 4.0
        # The versions endpoint for the failed version reports it too.
        response = requests.get(f"{server.rest}/v1/models/m/versions/3", timeout=10)
        assert response.json()["model_version_status"][0]["state"] == "END"


def test_no_request_fails_during_a_version_switch(library, tmp_path) -> None:
    base = tmp_path / "m"
    base.mkdir()
    publish(library, base, 1)
    flags = [f"--model_base_path={base}", "--model_name=m"]
    with start_server(flags, tmp_path) as server:
        failures, answers, stop = [], set(), threading.Event()
        session_local = threading.local()

        def hammer() -> None:
            session_local.session = requests.Session()
            for _ in range(3000):  # bounded
                if stop.is_set():
                    return
                try:
                    r = session_local.session.post(
                        server.rest + "/v1/models/m:predict", json={"instances": [2.0]}, timeout=30
                    )
                    if r.status_code != 200:
                        failures.append(r.text)
                    else:
                        answers.add(r.json()["predictions"][0])
                except requests.RequestException as err:
                    failures.append(str(err))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        publish(library, base, 2)
        wait_for(lambda: 4.0 in answers, what="version 2 answers")
        publish(library, base, 3, as_version=3)
        wait_for(lambda: 5.0 in answers, what="version 3 answers")
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert {3.0, 4.0, 5.0} <= answers


def labelled_config(base: Path, labels: dict[str, int], policy: str) -> str:
    label_text = "".join(f' version_labels {{ key: "{k}" value: {v} }}' for k, v in labels.items())
    return (
        f'model_config_list {{ config {{ name: "m" base_path: "{base}" model_platform: "tensorflow" '
        f"model_version_policy {{ {policy} }}{label_text} }} }}"
    )


def test_labels_in_the_startup_config_need_the_flag(library, tmp_path) -> None:
    base = tmp_path / "m"
    base.mkdir()
    publish(library, base, 1)
    publish(library, base, 2)
    config = tmp_path / "models.config"
    config.write_text(labelled_config(base, {"stable": 1, "canary": 2}, "all {}"))
    refused = start_server([f"--model_config_file={config}"], tmp_path, name="refused")
    with (
        pytest.raises(RuntimeError, match="which is not currently available for inference"),
        refused,
    ):
        pass
    flags = [f"--model_config_file={config}", "--allow_version_labels_for_unavailable_models"]
    with start_server(flags, tmp_path) as server:
        assert predict(server, path="/v1/models/m/labels/stable:predict") == 3.0
        assert predict(server, path="/v1/models/m/labels/canary:predict") == 4.0
        assert predict(server, path="/v1/models/m/versions/1:predict") == 3.0
        assert predict(server) == 4.0  # latest


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("latest { num_versions: 2 }", {"2", "3"}, id="latest-2"),
        pytest.param("all {}", {"1", "2", "3"}, id="all"),
        pytest.param("specific { versions: 1 versions: 3 }", {"1", "3"}, id="specific"),
    ],
)
def test_version_policies(library, tmp_path, policy, expected) -> None:
    base = tmp_path / "m"
    base.mkdir()
    for version in OFFSETS:
        publish(library, base, version)
    config = tmp_path / "models.config"
    config.write_text(labelled_config(base, {}, policy))
    with start_server([f"--model_config_file={config}"], tmp_path) as server:
        available = {v for v, s in status(server).items() if s["state"] == "AVAILABLE"}
        assert available == expected
        for version in expected:
            assert (
                predict(server, path=f"/v1/models/m/versions/{version}:predict")
                == 1.0 + OFFSETS[int(version)]
            )


def reload_request(*entries: tuple[str, Path]) -> model_management_pb2.ReloadConfigRequest:
    request = model_management_pb2.ReloadConfigRequest()
    for name, base in entries:
        entry = request.config.model_config_list.config.add(
            name=name, base_path=str(base), model_platform="tensorflow"
        )
        entry.model_version_policy.latest.num_versions = 1
    return request


def test_reload_config_adds_removes_and_rejects(library, tmp_path) -> None:
    base_m, base_n = tmp_path / "m", tmp_path / "n"
    for base in (base_m, base_n):
        base.mkdir()
        publish(library, base, 1)
    with (
        start_server([f"--model_base_path={base_m}", "--model_name=m"], tmp_path) as server,
        grpc.insecure_channel(server.grpc) as channel,
    ):
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        stub.HandleReloadConfigRequest(reload_request(("m", base_m), ("n", base_n)), timeout=60)
        assert predict(server, path="/v1/models/n:predict") == 3.0
        bad = reload_request(("m", base_m), ("m", base_n))
        with pytest.raises(grpc.RpcError) as caught:
            stub.HandleReloadConfigRequest(bad, timeout=60)
        assert "Illegal to list model m multiple times" in caught.value.details()
        assert predict(server, path="/v1/models/n:predict") == 3.0  # old config kept
        missing = reload_request(("m", base_m), ("gone", tmp_path / "does-not-exist"))
        with pytest.raises(grpc.RpcError) as caught:
            stub.HandleReloadConfigRequest(missing, timeout=60)
        assert caught.value.code() == grpc.StatusCode.UNKNOWN
        assert "did not become available" in caught.value.details()
        labelled = reload_request(("m", base_m))
        labelled.config.model_config_list.config[0].version_labels["stable"] = 5
        with pytest.raises(grpc.RpcError) as caught:
            stub.HandleReloadConfigRequest(labelled, timeout=60)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "Request to assign label to version 5 of model m" in caught.value.details()
        stub.HandleReloadConfigRequest(reload_request(("m", base_m)), timeout=60)
        response = requests.post(
            server.rest + "/v1/models/n:predict", json={"instances": [1.0]}, timeout=10
        )
        assert response.status_code == 404
        assert predict(server) == 3.0


def test_config_file_polling_applies_good_and_keeps_old_on_bad(library, tmp_path) -> None:
    base_m, base_n = tmp_path / "m", tmp_path / "n"
    for base in (base_m, base_n):
        base.mkdir()
        publish(library, base, 1)
    config = tmp_path / "models.config"
    config.write_text(labelled_config(base_m, {}, "latest {}"))
    flags = [f"--model_config_file={config}", "--model_config_file_poll_wait_seconds=1"]
    with start_server(flags, tmp_path) as server:
        two = model_server_config_pb2.ModelServerConfig()
        for name, base in (("m", base_m), ("n", base_n)):
            two.model_config_list.config.add(
                name=name, base_path=str(base), model_platform="tensorflow"
            )
        config.write_text(str(two))
        wait_for(lambda: "1" in status(server, "n"), what="model n to be added")
        wait_for(lambda: status(server, "n")["1"]["state"] == "AVAILABLE", what="model n to load")
        config.write_text("model_config_list { config { name: 'm' nonsense: 1 } }")
        time.sleep(2.5)
        assert predict(server, path="/v1/models/n:predict") == 3.0
        assert "keeping the old one" in server.log()


def test_config_polling_survives_any_file_content(library, tmp_path) -> None:
    """Not UTF-8, empty, half-written, deleted for a moment: each kept the old config; the
    good config written after them is still applied (the poller did not die)."""
    base_m, base_n = tmp_path / "m", tmp_path / "n"
    for base in (base_m, base_n):
        base.mkdir()
        publish(library, base, 1)
    config = tmp_path / "models.config"
    config.write_text(labelled_config(base_m, {}, "latest {}"))
    flags = [f"--model_config_file={config}", "--model_config_file_poll_wait_seconds=1"]
    good = labelled_config(base_m, {}, "latest {}").replace(
        "model_config_list {",
        f"model_config_list {{ config {{ name: 'n' base_path: '{base_n}' model_platform: "
        "'tensorflow' }",
        1,
    )
    with start_server(flags, tmp_path) as server:
        for bad in (b"model_config_list { config { name: '\xd4\xff' } }", b"", good[:40].encode()):
            config.write_bytes(bad)
            time.sleep(1.5)
            assert predict(server) == 3.0  # m, version 1: 0.5 * 2 + 2
        config.unlink()
        time.sleep(1.5)
        config.write_text(good)
        wait_for(lambda: "1" in status(server, "n"), what="model n from the good config")
        wait_for(lambda: status(server, "n")["1"]["state"] == "AVAILABLE", what="model n to load")
        log = server.log()
        assert "keeping the old one" in log and "cannot read the model config" in log
        assert "Traceback" not in log


def test_startup_fails_cleanly_when_the_only_version_is_corrupt(tmp_path) -> None:
    base = tmp_path / "m"
    base.mkdir()
    corrupt(base, 1)
    with (
        pytest.raises(RuntimeError, match="did not become available"),
        start_server(
            [f"--model_base_path={base}", "--model_name=m", "--max_num_load_retries=0"], tmp_path
        ),
    ):
        pass
