"""The request logging extension: a model's logging_config writes PredictionLog files."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
import requests
from google.protobuf import text_format
from prometheus_client.parser import text_string_to_metric_families
from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc, prediction_log_pb2

from clients import GrpcClient, RestClient
from clients.request_log import log_files, read_request_logs
from server.app import ModelServer
from server.errors import ServingError
from server.flags import FlagError, parse_flags, validate
from tests.clients.conftest import client_models  # noqa: F401 - a fixture
from tests.serverproc import RunningServer, free_port, start_server
from wire.tfrecord import read_tfrecords

MODEL, SAMPLED = "half_plus_two", "sampled"
METRICS_PATH = "/monitoring/prometheus/metrics"


def models_config(base_path: Path, logs: Path | None, collector: str = "tfrecord") -> str:
    """half_plus_two (every call logged to logs/all) and sampled (half, to logs/half)."""
    entries = []
    for name, rate in ((MODEL, 1.0), (SAMPLED, 0.5)):
        logging = (
            f'logging_config {{ log_collector_config {{ type: "{collector}" '
            f'filename_prefix: "{logs}/{name}" }} sampling_config {{ sampling_rate: {rate} }} }}'
            if logs
            else ""
        )
        entries.append(
            f'config {{ name: "{name}" base_path: "{base_path}" model_platform: "tensorflow" '
            f"{logging} }}"
        )
    return f"model_config_list {{ {' '.join(entries)} }}"


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-request-logs")


@pytest.fixture(scope="module")
def logging_server(client_models: Path, logs: Path, tmp_path_factory) -> RunningServer:  # noqa: F811
    folder = tmp_path_factory.mktemp("logging-server")
    config = folder / "models.config"
    config.write_text(models_config(client_models / MODEL, logs))
    (folder / "monitoring.config").write_text(
        f'prometheus_config {{ enable: true path: "{METRICS_PATH}" }}'
    )
    flags = [
        f"--model_config_file={config}",
        f"--monitoring_config_file={folder / 'monitoring.config'}",
        "--enable_request_logging_extension",
        f"--request_log_dir={tmp_path_factory.getbasetemp()}",
        "--max_num_load_retries=0",
    ]
    with start_server(flags, folder) as running:
        yield running


def reload(server: RunningServer, text: str) -> None:
    request = model_management_pb2.ReloadConfigRequest()
    text_format.Parse(text, request.config)
    with grpc.insecure_channel(server.grpc) as channel:
        model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
            request, timeout=120
        )


def test_without_the_flag_a_logging_config_is_refused_as_tf_serving_does(
    client_models: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "models.config"
    config.write_text(models_config(client_models / MODEL, tmp_path))
    flags = [f"--model_config_file={config}", f"--port={free_port()}"]
    server = ModelServer(parse_flags(flags))
    with pytest.raises(ServingError, match=r"^No request-logger-creator provided\.$"):
        server.start()
    server.stop(grace=0)
    assert not list(tmp_path.glob(f"{MODEL}*"))


def test_an_unknown_collector_type_is_not_found(
    logging_server: RunningServer,
    client_models: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        reload(logging_server, models_config(client_models / MODEL, tmp_path, "kafka"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "Cannot find LogCollector::Factory for type: kafka"
    with GrpcClient(logging_server.grpc) as client:  # the old config keeps serving
        assert client.predict(MODEL, {"x": [2.0]})["y"].tolist() == [4.0]


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("/var/tmp/elsewhere-{n}/requests", id="another-folder"),
        pytest.param("{logs}/../../escaped-{n}/requests", id="dot-dot"),
    ],
)
def test_a_reload_cannot_write_logs_outside_the_log_dir(
    logging_server: RunningServer,
    client_models: Path,  # noqa: F811
    logs: Path,
    prefix: str,
) -> None:
    target = Path(prefix.format(logs=logs, n=free_port()))
    text = models_config(client_models / MODEL, logs).replace(str(logs / MODEL), str(target))
    with pytest.raises(grpc.RpcError) as raised:
        reload(logging_server, text)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is outside --request_log_dir" in raised.value.details()
    assert not target.parent.exists()  # nothing was created there
    with GrpcClient(logging_server.grpc) as client:  # the old config keeps serving
        assert client.predict(MODEL, {"x": [2.0]})["y"].tolist() == [4.0]


def test_the_extension_needs_a_log_dir() -> None:
    with pytest.raises(FlagError, match="needs --request_log_dir=/absolute/folder"):
        validate(parse_flags(["--model_base_path=/m", "--enable_request_logging_extension"]))


def test_rest_and_grpc_calls_are_logged_with_the_callers_request_id(
    logging_server: RunningServer,
    client_models: Path,  # noqa: F811
    logs: Path,
) -> None:
    started = time.time()  # earlier tests' calls are in the logs too
    with GrpcClient(logging_server.grpc) as grpc_client, RestClient(logging_server.rest) as rest:
        grpc_client.predict(MODEL, {"x": [1.0]}, request_id="grpc-predict")
        grpc_client.regress(MODEL, [{"x": 2.0}], signature="regress_x_to_y", request_id="g-reg")
        grpc_client.predict(MODEL, {"x": [3.0]})  # no id: the server makes one up
        rest.predict(MODEL, {"x": [4.0]}, request_id="rest-predict")
        rest.classify(MODEL, [{"x": 5.0}], signature="classify_x_to_y", request_id="r-cls")
        answer = requests.post(
            f"{logging_server.rest}/v1/models/{MODEL}/versions/124:predict",
            json={"instances": [6.0]},
            headers={"X-Request-Id": "raw-header"},
            timeout=30,
        )
        assert answer.json() == {"predictions": [6.0]}  # 124: 0.5x + 3

        def sampled_call(value: int) -> None:
            grpc_client.predict(SAMPLED, {"x": [float(value)]})

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(sampled_call, range(400)))
    # Dropping logging_config from the models closes their logs: the files are finished.
    reload(logging_server, models_config(client_models / MODEL, None))
    logged = [c for c in read_request_logs(logs) if c.timestamp >= started]
    calls = {c.request_id: c for c in logged if c.model == MODEL}
    named = {"grpc-predict", "g-reg", "rest-predict", "r-cls", "raw-header"}
    assert named < set(calls) and len(calls) == 6
    (made_up,) = set(calls) - named
    assert len(made_up) == 32 and calls[made_up].inputs["x"].tolist() == [3.0]
    assert [calls[i].transport for i in sorted(named)] == ["grpc", "grpc", "rest", "rest", "rest"]
    assert calls["rest-predict"].outputs["y"].tolist() == [5.0]
    assert calls["raw-header"].version == 124 and calls["raw-header"].inputs["x"].tolist() == [6.0]
    assert calls["r-cls"].examples == [{"x": [5.0]}]
    assert calls["r-cls"].outputs["scores"].tolist() == [[5.5]]
    assert calls["g-reg"].outputs["outputs"].tolist() == [4.0]
    assert all(c.latency > 0 and c.sampling_rate == 1.0 for c in calls.values())
    sampled = [c for c in logged if c.model == SAMPLED]
    assert abs(len(sampled) - 200) <= 5 * math.sqrt(400 * 0.25)
    on_disk = {MODEL: 0, SAMPLED: 0}
    for path in log_files(logs):
        for raw in read_tfrecords(path):
            record = prediction_log_pb2.PredictionLog.FromString(raw)
            on_disk[record.log_metadata.model_spec.name] += 1
            assert record.WhichOneof("log_type") in ("predict_log", "classify_log", "regress_log")
    # The server counts every record on its metrics page (a project extension).
    page = requests.get(f"{logging_server.rest}{METRICS_PATH}", timeout=30).text
    counted = {
        (sample.labels["model_name"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(page)
        if family.name == ":tensorflow_serving_bundle:request_log_records"
        for sample in family.samples
    }
    for model, records in on_disk.items():
        assert counted[(model, "written")] == counted[(model, "sampled")] == records
    assert all(value == 0 for (_, outcome), value in counted.items() if "dropped" in outcome)
