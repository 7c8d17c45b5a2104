"""Request logs of the clients: sampled under load, rotated, readable by TF, replayable as warmup."""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from clients import AsyncGrpcClient, GrpcClient, ModelConfigSpec, RestClient
from clients.request_log import RequestLog, log_files, read_request_logs
from tests.clients.conftest import CANARY, METRICS_PATH, STABLE, TRANSPORTS, make_client
from tests.clients.conftest import LOGGED_MODEL as MODEL
from tests.serverproc import RunningServer
from wire.tfrecord import read_tfrecords


@pytest.mark.parametrize(
    ("transport", "calls", "rate"),
    [
        pytest.param("grpc", 1500, 0.3, id="grpc-1500-calls-rate-0.3"),
        pytest.param("rest", 600, 0.5, id="rest-600-calls-rate-0.5"),
    ],
)
def test_logs_under_load_honour_the_sampling_rate_and_rotate(
    log_server: RunningServer, tmp_path: Path, transport: str, calls: int, rate: float
) -> None:
    folder = tmp_path / "logs"
    with (
        RequestLog(folder, sampling_rate=rate, seed=7, max_file_bytes=8192) as request_log,
        make_client(transport, log_server, request_log=request_log) as client,
    ):
        values = np.arange(calls, dtype=np.float32)

        def call(index: int) -> float:
            x = values[index : index + 1]
            return client.predict(MODEL, {"x": x}, request_id=f"r{index}")["y"][0]

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(call, range(calls)))
    assert answers == [0.5 * x + 3 for x in range(calls)]
    stats = request_log.stats()
    sigma = math.sqrt(calls * rate * (1 - rate))
    assert abs(stats.sampled - calls * rate) <= 5 * sigma
    assert stats.written + stats.dropped == stats.sampled
    assert stats.dropped_io_error == stats.dropped_unencodable == stats.dropped_closed == 0
    files = log_files(folder)
    assert len(files) == stats.files_finished > 1
    assert not list(folder.glob("*.partial"))
    assert all(path.stat().st_size <= 8192 + 1024 for path in files)
    logged = list(read_request_logs(folder))
    assert len(logged) == stats.written
    assert len({c.request_id for c in logged}) == len(logged)
    for entry in logged:
        index = int(entry.request_id[1:])
        assert entry.inputs["x"].tolist() == [index]
        assert entry.outputs["y"].tolist() == [0.5 * index + 3]
        assert entry.transport == transport and entry.sampling_rate == rate


def test_records_hold_the_calls_and_parse_as_tensorflow_prediction_logs(
    log_server: RunningServer, tmp_path: Path
) -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    started = time.time()
    x = np.array([1.0, 2.0], np.float32)
    returned = {}
    with RequestLog(tmp_path, sampling_rate=1.0) as request_log:
        with GrpcClient(log_server.grpc, request_log=request_log) as grpc_client:
            returned["g-stable"] = grpc_client.predict(
                MODEL, {"x": x}, label="stable", request_id="g-stable"
            )
            returned["g-classify"] = grpc_client.classify(
                MODEL, [{"x": 1.0}], signature="classify_x_to_y", request_id="g-classify"
            )
        with RestClient(log_server.rest, request_log=request_log) as rest_client:
            returned["r-123"] = rest_client.predict(
                MODEL, [1.0, 2.0], version=STABLE, request_id="r-123"
            )
            returned["r-regress"] = rest_client.regress(
                MODEL, [{"x": 4.0}], signature="regress_x_to_y", request_id="r-regress"
            )

        async def use_async() -> None:
            async with AsyncGrpcClient(log_server.grpc, request_log=request_log) as aio:
                returned["a-latest"] = await aio.predict(MODEL, {"x": x}, request_id="a-latest")

        asyncio.run(use_async())
    logged = {c.request_id: c for c in read_request_logs(tmp_path)}
    assert sorted(logged) == sorted(returned)
    for call in logged.values():
        assert call.model == MODEL and call.latency > 0 and call.sampling_rate == 1.0
        assert started <= call.timestamp <= time.time()
    # gRPC names the version that answered (in ModelSpec's version-or-label oneof, so it
    # replaces the label asked for); REST only the version asked for.
    assert (logged["g-stable"].version, logged["g-stable"].label) == (STABLE, "")
    assert logged["a-latest"].version == CANARY
    assert (logged["r-123"].version, logged["r-123"].transport) == (STABLE, "rest")
    assert logged["r-regress"].version is None
    for name in ("g-stable", "r-123", "a-latest"):
        assert logged[name].inputs["x"].tolist() == [1.0, 2.0]
        assert logged[name].inputs["x"].dtype == np.float32
        assert logged[name].outputs["y"].tolist() == returned[name]["y"].tolist()
    assert logged["g-classify"].examples == [{"x": [1.0]}]
    assert logged["g-classify"].outputs["scores"].tolist() == [[3.5]]
    assert logged["r-regress"].outputs["outputs"].tolist() == returned["r-regress"] == [5.0]
    kinds = []
    for path in log_files(tmp_path):
        for raw in read_tfrecords(path):
            record = prediction_log_pb2.PredictionLog.FromString(raw)
            kinds.append(record.WhichOneof("log_type"))
            assert record.log_metadata.model_spec.name == MODEL
            assert record.log_metadata.saved_model_tags == ["serve"]
    assert sorted(kinds) == ["classify_log", "predict_log", "predict_log", "predict_log"] + [
        "regress_log"
    ]


def _warmup_records_read(server: RunningServer, model_path: Path) -> float:
    page = requests.get(server.rest + METRICS_PATH, timeout=10).text
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if "warmup_records_read" in sample.name and sample.labels.get("model_path") == str(
                model_path
            ):
                return sample.value
    return 0.0


def test_a_log_file_replays_as_a_versions_warmup(
    log_server: RunningServer, log_server_models: list[ModelConfigSpec], tmp_path: Path
) -> None:
    with (
        RequestLog(tmp_path / "logs", sampling_rate=1.0) as request_log,
        GrpcClient(log_server.grpc, request_log=request_log) as client,
    ):
        for value in range(5):
            client.predict(MODEL, {"x": [float(value)]})
        client.regress(MODEL, [{"x": 1.0}], signature="regress_x_to_y")
    (log_file,) = log_files(tmp_path / "logs")
    version = tmp_path / "replayed" / "1"
    shutil.copytree(Path(log_server_models[0].base_path) / str(STABLE), version)
    warmup = version / "assets.extra" / "tf_serving_warmup_requests"
    warmup.parent.mkdir(exist_ok=True)
    shutil.copyfile(log_file, warmup)
    with GrpcClient(log_server.grpc, timeout=120) as client:
        client.reload_config(
            [*log_server_models, ModelConfigSpec("replayed", str(tmp_path / "replayed"))]
        )
        try:
            assert client.predict("replayed", {"x": [2.0]})["y"].tolist() == [3.0]
            assert _warmup_records_read(log_server, version) == 6
        finally:
            client.reload_config(log_server_models)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_cli_writes_its_call_to_a_request_log(
    log_server: RunningServer, tmp_path: Path, transport: str
) -> None:
    from tests.clients.test_cli import address, cli

    done = cli(
        "predict",
        "--model",
        MODEL,
        "--input",
        "[1.0, 2.0]",
        "--request-log",
        str(tmp_path),
        "--request-id",
        "from-cli",
        *address(transport, log_server),
    )
    assert done.returncode == 0, done.stderr
    (call,) = read_request_logs(tmp_path)
    assert (call.request_id, call.transport, call.model) == ("from-cli", transport, MODEL)
    assert call.outputs["y"].tolist() == [3.5, 4.0]
    assert [path.name.startswith("cli-") for path in log_files(tmp_path)] == [True]
