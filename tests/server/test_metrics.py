"""ServingMetrics: TF Serving's metric names, types, labels, buckets and text page."""

from __future__ import annotations

import re
import sys
import threading

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from server.errors import Code
from server.metrics import (
    CONTENT_TYPE,
    VERSION_STATES,
    ServingMetrics,
    exponential_buckets,
    prometheus_name,
)

REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
VERSION_STATE = ":tensorflow_serving_bundle:model_version_state"


@pytest.fixture
def metrics() -> ServingMetrics:
    return ServingMetrics()


def families(metrics: ServingMetrics) -> dict[str, object]:
    """Parse the page with prometheus-client's own parser, keyed by exposed family name."""
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def samples(metrics: ServingMetrics, family: str, suffix: str = "") -> list:
    """Samples named family + suffix.

    The parser reports a counter's samples as "<name>_total" even though the page has no such
    suffix; the raw lines are checked for that separately.
    """
    return [s for s in families(metrics)[family].samples if s.name == family + suffix]


def series(metrics: ServingMetrics, family: str, suffix: str = "") -> dict[tuple, float]:
    """Map each series' label values (le excluded) to its value."""
    return {
        tuple(v for k, v in s.labels.items() if k != "le"): s.value
        for s in samples(metrics, family, suffix)
    }


def buckets(metrics: ServingMetrics, family: str) -> list[tuple[str, float]]:
    return [(s.labels["le"], s.value) for s in samples(metrics, family, "_bucket")]


def page_lines(metrics: ServingMetrics) -> list[str]:
    return metrics.render().decode().splitlines()


@pytest.mark.parametrize(
    ("raw", "exposed"),
    [
        pytest.param("/tensorflow/serving/request_count", REQUEST_COUNT, id="slashes"),
        pytest.param("a.b-c d", "a:b:c:d", id="punctuation"),
        pytest.param("9lives/x_y", "_9lives:x_y", id="leading-digit"),
    ],
)
def test_raw_names_are_exposed_by_tf_servings_rule(raw: str, exposed: str) -> None:
    assert prometheus_name(raw) == exposed


def test_page_has_type_lines_no_help_and_ends_with_newline(metrics: ServingMetrics) -> None:
    metrics.request("m", "OK")
    page = metrics.render().decode()
    assert page.endswith("\n")
    assert "# HELP" not in page
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", page, re.MULTILINE))
    assert types[REQUEST_COUNT] == "counter"
    assert types[REQUEST_LATENCY] == "histogram"
    assert types[":tensorflow:cc:saved_model:load_latency"] == "counter"
    assert types[VERSION_STATE] == "gauge"
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")


def test_request_count_is_a_counter_without_total_suffix(metrics: ServingMetrics) -> None:
    metrics.request("m", "OK")
    metrics.request("m", "OK")
    metrics.request("m", Code.NOT_FOUND)
    lines = page_lines(metrics)
    assert f'{REQUEST_COUNT}{{model_name="m",status="OK"}} 2' in lines
    assert f'{REQUEST_COUNT}{{model_name="m",status="NOT_FOUND"}} 1' in lines
    assert not [line for line in lines if "_total" in line and "example_count_total" not in line]
    assert not [line for line in lines if line.endswith("_created")]
    assert families(metrics)[REQUEST_COUNT].type == "counter"


def test_example_counts_keep_tf_servings_own_total_name(metrics: ServingMetrics) -> None:
    metrics.example_count("m", 3)
    metrics.example_count("m", 5)
    assert ':tensorflow:serving:request_example_count_total{model="m"} 8' in page_lines(metrics)
    layout = buckets(metrics, ":tensorflow:serving:request_example_counts")
    assert [le for le, _ in layout] == [str(2**i) for i in range(15)] + ["+Inf"]
    assert dict(layout)["2"] == 0 and dict(layout)["4"] == 1 and dict(layout)["8"] == 2
    with pytest.raises(ValueError):
        metrics.example_count("m", -1)


def test_request_latency_is_in_microseconds_with_tf_servings_buckets(
    metrics: ServingMetrics,
) -> None:
    metrics.request_latency("m", "predict", "REST", 0.0025)
    layout = buckets(metrics, REQUEST_LATENCY)
    assert len(layout) == 34
    assert [le for le, _ in layout[:3]] == ["10", "18", "32.4"]
    assert float(layout[32][0]) == pytest.approx(10 * 1.8**32, rel=1e-5)
    assert layout[33][0] == "+Inf"
    # 2500 µs: every bucket from 3570.47 µs up holds it, none below.
    assert [count for _, count in layout] == [float(float(le) >= 2500) for le, _ in layout]
    assert series(metrics, REQUEST_LATENCY, "_sum") == {("m", "predict", "REST"): 2500}
    assert series(metrics, REQUEST_LATENCY, "_count") == {("m", "predict", "REST"): 1}
    labels = samples(metrics, REQUEST_LATENCY, "_sum")[0].labels
    assert list(labels) == ["model_name", "API", "entrypoint"]


def test_runtime_latency_is_labelled_tf1(metrics: ServingMetrics) -> None:
    metrics.runtime_latency("m", "Predict", 0.001)
    family = ":tensorflow:serving:runtime_latency"
    assert series(metrics, family, "_sum") == {("m", "Predict", "TF1"): 1000}
    assert [le for le, _ in buckets(metrics, family)][:2] == ["10", "18"]


def test_warmup_records_latency_and_records(metrics: ServingMetrics) -> None:
    metrics.warmup("/models/m/1", "OK", 0.25, records=7)
    key = ("/models/m/1", "OK")
    assert series(metrics, ":tensorflow:serving:model_warmup_latency", "_sum") == {key: 250000}
    records = ":tensorflow:serving:model_warmup_records_read"
    assert series(metrics, records, "_total") == {key: 7}


def test_batching_metrics(metrics: ServingMetrics) -> None:
    metrics.batch_queuing_latency("batch_pool", 0.0002)
    metrics.batch_input(3)
    metrics.batch(batch_size=3, padded_size=4)
    metrics.batch(batch_size=8, padded_size=8)
    prefix = ":tensorflow:serving:batching_session:"
    queuing = buckets(metrics, prefix + "queuing_latency")
    assert [le for le, _ in queuing[:3]] == ["100", "120", "144"] and len(queuing) == 53
    assert series(metrics, prefix + "queuing_latency", "_sum") == {("batch_pool",): 200}
    assert f"{prefix}wrapped_run_count{{}} 2" in page_lines(metrics)
    assert series(metrics, prefix + "processed_batch_size", "_sum") == {(): 12}
    assert series(metrics, prefix + "input_batch_size", "_count") == {(): 1}
    assert series(metrics, prefix + "padding_size", "_sum") == {("4",): 1, ("8",): 0}
    assert [le for le, _ in buckets(metrics, prefix + "padding_size")][-2:] == ["8192", "+Inf"]
    with pytest.raises(ValueError):
        metrics.batch(batch_size=5, padded_size=4)


def test_model_load_counts_attempts_and_total_microseconds(metrics: ServingMetrics) -> None:
    metrics.model_load("/models/m/1", success=True, seconds=1.5)
    metrics.model_load("/models/m/1", success=False, seconds=0.25)
    lines = page_lines(metrics)
    attempts = ":tensorflow:cc:saved_model:load_attempt_count"
    assert f'{attempts}{{model_path="/models/m/1",status="success"}} 1' in lines
    assert f'{attempts}{{model_path="/models/m/1",status="fail"}} 1' in lines
    assert ':tensorflow:cc:saved_model:load_latency{model_path="/models/m/1"} 1750000' in lines


def test_version_state_gauge_flips_and_forgets(metrics: ServingMetrics) -> None:
    metrics.set_version_state("m", 1, "LOADING")
    metrics.set_version_state("m", 1, "AVAILABLE")
    metrics.set_version_state("m", 2, "LOADING")
    state = series(metrics, VERSION_STATE)
    assert {s for s in VERSION_STATES if state[("m", "1", s)] == 1} == {"AVAILABLE"}
    assert sum(state[("m", "1", s)] for s in VERSION_STATES) == 1
    assert state[("m", "2", "LOADING")] == 1
    metrics.forget_version("m", "1")
    assert {key[:2] for key in series(metrics, VERSION_STATE)} == {("m", "2")}
    metrics.set_version_state("m", 1, "END")
    assert series(metrics, VERSION_STATE)[("m", "1", "END")] == 1
    with pytest.raises(ValueError):
        metrics.set_version_state("m", 1, "READY")


def test_label_values_are_escaped_and_parse_back(metrics: ServingMetrics) -> None:
    name = 'we"ird\\name'
    metrics.request(name, "OK")
    assert series(metrics, REQUEST_COUNT, "_total") == {(name, "OK"): 1}


def test_instances_do_not_share_or_touch_the_global_registry() -> None:
    first, second = ServingMetrics(), ServingMetrics()
    first.request("m", "OK")
    assert samples(second, REQUEST_COUNT, "_total") == []
    assert REGISTRY.get_sample_value(REQUEST_COUNT + "_total", {"model_name": "m"}) is None


def test_concurrent_recording_loses_nothing(metrics: ServingMetrics) -> None:
    threads, per_thread = 16, 2000
    start = threading.Barrier(threads)

    def record() -> None:
        start.wait()
        for _ in range(per_thread):
            metrics.request("m", "OK")
            metrics.request_latency("m", "Predict", "GRPC", 0.001)

    workers = [threading.Thread(target=record) for _ in range(threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to expose races
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    total = threads * per_thread
    assert series(metrics, REQUEST_COUNT, "_total") == {("m", "OK"): total}
    assert series(metrics, REQUEST_LATENCY, "_count") == {("m", "Predict", "GRPC"): total}
    assert series(metrics, REQUEST_LATENCY, "_sum")[("m", "Predict", "GRPC")] == pytest.approx(
        total * 1000
    )


def test_exponential_buckets_match_tf() -> None:
    assert exponential_buckets(1, 2, 4) == (1, 2, 4, 8)
    with pytest.raises(ValueError):
        exponential_buckets(1, 2, 0)
