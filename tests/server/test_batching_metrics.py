"""A server with batching, monitoring and CORS on: batches, queue limits, metrics, preflight."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from server.core import UNKNOWN_MODEL_LABEL
from tests.serverproc import start_server

BATCHING = """
max_batch_size { value: 4 }
batch_timeout_micros { value: 500000 }
max_enqueued_batches { value: 1 }
num_batch_threads { value: 1 }
allowed_batch_sizes: 2
allowed_batch_sizes: 4
"""
METRICS_PATH = "/monitoring/prometheus/metrics"


@pytest.fixture(scope="module")
def server(fixture_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batching")
    (folder / "batching.txt").write_text(BATCHING)
    (folder / "monitoring.config").write_text(
        f'prometheus_config {{ enable: true path: "{METRICS_PATH}" }}'
    )
    flags = [
        f"--model_config_file={fixture_models / 'models.config'}",
        "--enable_batching",
        f"--batching_parameters_file={folder / 'batching.txt'}",
        f"--monitoring_config_file={folder / 'monitoring.config'}",
        "--rest_api_enable_cors_support",
    ]
    with start_server(flags, folder) as running:
        yield running


def predict(server, values, signature="serving_default"):
    return requests.post(
        server.rest + "/v1/models/half_plus_two:predict",
        json={"signature_name": signature, "instances": values},
        timeout=30,
    )


def scrape(server) -> dict[str, list]:
    text = requests.get(server.rest + METRICS_PATH, timeout=10).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_concurrent_requests_are_batched_and_split_back(server) -> None:
    barrier = threading.Barrier(3)

    def one(x: float):
        barrier.wait()
        return predict(server, [x])

    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(one, [1.0, 2.0, 3.0]))
    assert [r.json()["predictions"] for r in responses] == [[2.5], [3.0], [3.5]]
    samples = scrape(server)
    processed = [
        s
        for s in samples[":tensorflow:serving:batching_session:processed_batch_size"]
        if s.name.endswith("_count")
    ]
    assert processed and processed[0].value >= 1
    sums = [
        s.value
        for s in samples[":tensorflow:serving:batching_session:processed_batch_size"]
        if s.name.endswith("_sum")
    ]
    counts = processed[0].value
    assert sums[0] / counts > 1, "no batch held more than one row"


def test_task_larger_than_max_batch_size(server) -> None:
    response = predict(server, [1.0] * 5)
    assert response.status_code == 400
    assert "Task size 5 is larger than maximum batch size 4" in response.json()["error"]


def test_full_queue_gives_503_and_the_server_recovers(server) -> None:
    first: list[requests.Response] = []
    holder = threading.Thread(target=lambda: first.append(predict(server, [1.0, 1.0, 1.0])))
    holder.start()
    time.sleep(0.15)  # the first batch is open, waiting out its 0.5 s timeout
    second = predict(server, [2.0, 2.0, 2.0])
    holder.join(timeout=30)
    assert second.status_code == 503, second.text
    assert (
        "The batch scheduling queue to which this task was submitted is full"
        in second.json()["error"]
    )
    assert first[0].status_code == 200
    assert predict(server, [2.0]).json() == {"predictions": [3.0]}


def test_metrics_after_traffic(server) -> None:
    predict(server, [1.0])
    requests.post(server.rest + "/v1/models/nope:predict", json={"instances": [1.0]}, timeout=10)
    samples = scrape(server)
    counts = {
        (s.labels["model_name"], s.labels["status"]): s.value
        for s in samples[":tensorflow:serving:request_count"]
    }
    assert counts[("half_plus_two", "OK")] >= 1
    assert counts[(UNKNOWN_MODEL_LABEL, "NOT_FOUND")] >= 1  # not "nope": see the test below
    latency = samples[":tensorflow:serving:request_latency"]
    rest_predict = [
        s
        for s in latency
        if s.labels.get("API") == "predict" and s.labels.get("entrypoint") == "REST"
    ]
    assert any(s.name.endswith("_count") and s.value >= 1 for s in rest_predict)
    assert any(s.labels.get("le") == "10" for s in rest_predict)
    assert any(
        s.value >= 1
        for s in samples[":tensorflow:serving:runtime_latency"]
        if s.name.endswith("_count")
    )
    assert any(
        s.value >= 1
        for s in samples[":tensorflow:serving:batching_session:queuing_latency"]
        if s.name.endswith("_count")
    )
    loads = [
        s
        for s in samples[":tensorflow:cc:saved_model:load_attempt_count"]
        if s.labels["status"] == "success"
    ]
    # Every fixture model loads with batching on, the TF1-era ones included.
    assert {s.labels["model_path"].split("/")[-2] for s in loads} == {
        "half_plus_two",
        "identity",
        "half_plus_two_v1",
        "half_plus_three",
        "counter",
        "vocab_lookup",
    }
    warmup = samples[":tensorflow:serving:model_warmup_records_read"]
    assert any(s.value >= 1 for s in warmup)
    states = {
        (s.labels["model_name"], s.labels["version"], s.labels["state"]): s.value
        for s in samples[":tensorflow_serving_bundle:model_version_state"]
    }
    assert states[("half_plus_two", "123", "AVAILABLE")] == 1
    assert states[("half_plus_two", "123", "LOADING")] == 0


def test_metrics_page_format(server) -> None:
    response = requests.get(server.rest + METRICS_PATH, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE :tensorflow:serving:request_count counter" in response.text
    assert response.text.endswith("\n")


def test_cors_headers_and_preflight(server) -> None:
    response = predict(server, [1.0])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    ok = requests.options(
        server.rest + "/v1/models/half_plus_two:predict",
        headers={"Origin": "https://app.example"},
        timeout=10,
    )
    assert ok.status_code == 200 and ok.content == b""
    refused = requests.options(server.rest + "/v1/models/half_plus_two:predict", timeout=10)
    assert refused.status_code == 400 and refused.content == b""
    assert "Content-Type" not in refused.headers


def test_unknown_model_names_are_counted_under_one_label(server) -> None:
    """Labelled by the URL's name, any client could grow the page without bound."""
    names = [f"no-such-model-{n}" for n in range(40)]
    for name in names:
        response = requests.post(
            f"{server.rest}/v1/models/{name}:predict", json={"instances": [1.0]}, timeout=10
        )
        assert response.status_code == 404
    counts = {
        (s.labels["model_name"], s.labels["status"]): s.value
        for s in scrape(server)[":tensorflow:serving:request_count"]
    }
    assert counts[(UNKNOWN_MODEL_LABEL, "NOT_FOUND")] >= len(names)
    assert not [label for label, _ in counts if label.startswith("no-such-model-")]
    assert any(label == "half_plus_two" for label, _ in counts)  # served names keep theirs
