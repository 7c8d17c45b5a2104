"""push_samples against a real Pushgateway, scraped by a real Prometheus; the alert rules' tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from deploy_checks import rules
from deploy_checks.layout import ROOT
from monitoring import metric_names as names
from monitoring.push import PushError, Sample, push_samples
from tests.k8s.prometheus import PrometheusApi, run_prometheus
from tests.k8s.pushgateway import gateway_series, run_pushgateway
from tests.serverproc import free_port

PROMETHEUS_YML = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DRIFT = names.JOBS["drift"]


def drift_samples(model: str, features: dict[str, float]) -> list[Sample]:
    """What a drift run pushes for model: a score per feature, the share, its last run."""
    samples = [
        Sample(
            names.DRIFT_SCORE,
            score,
            {"model": model, "version": "2", "feature": feature, "method": "psi"},
            "Drift score of one input feature",
        )
        for feature, score in features.items()
    ]
    drifted = sum(score > 0.2 for score in features.values()) / len(features)
    return [
        *samples,
        # One name, two label sets: the share alone, and per version.
        Sample(names.DRIFT_SHARE, drifted, {"model": model, "version": "2"}),
        Sample(names.LOGGED_REQUESTS, 1000, {"model": model, "version": "2"}),
        Sample(names.LAST_RUN, 1.7e9, {"model": model}),
        Sample(names.LAST_RUN_PASSED, float(drifted < 0.5), {"model": model}),
    ]


def series_of(model: str, samples: list[Sample]) -> dict[tuple[str, frozenset], float]:
    """The series the gateway should show for samples pushed as the drift job, model group."""
    return {
        (s.name, frozenset({**s.labels, "job": DRIFT, "model": model, "instance": ""}.items())): (
            s.value
        )
        for s in samples
    }


def group_series(gateway: str, job: str, model: str) -> dict[tuple[str, frozenset], float]:
    """The model-quality series the gateway holds in the group (job, model)."""
    return {
        key: value
        for key, value in gateway_series(gateway, names.PREFIX).items()
        if {("job", job), ("model", model)} <= key[1]
    }


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[str]:
    with run_pushgateway(tmp_path_factory.mktemp("pushgateway")) as url:
        yield url


def test_pushed_samples_reach_the_gateway(gateway: str) -> None:
    samples = drift_samples("tabular", {"age": 0.31, "income/month": 0.05, "city": 0.4})
    push_samples(gateway, DRIFT, {"model": "tabular"}, samples)
    assert group_series(gateway, DRIFT, "tabular") == series_of("tabular", samples)
    text = requests.get(f"{gateway}/metrics", timeout=10).text
    assert f"# TYPE {names.DRIFT_SCORE} gauge" in text
    assert f"# HELP {names.DRIFT_SCORE} Drift score of one input feature" in text


def test_a_second_push_replaces_the_group_only(gateway: str) -> None:
    push_samples(gateway, DRIFT, {"model": "digits"}, drift_samples("digits", {"a": 0.3, "b": 1}))
    accuracy = [Sample(names.QUALITY_METRIC, 0.9, {"model": "digits", "metric": "accuracy"})]
    push_samples(gateway, names.JOBS["accuracy"], {"model": "digits"}, accuracy)
    second = drift_samples("digits", {"a": 0.1})
    push_samples(gateway, DRIFT, {"model": "digits"}, second)

    assert group_series(gateway, DRIFT, "digits") == series_of("digits", second)  # b is gone
    # The accuracy job's group for the same model is another group: untouched.
    assert group_series(gateway, names.JOBS["accuracy"], "digits") == {
        (
            names.QUALITY_METRIC,
            frozenset(
                {**accuracy[0].labels, "job": names.JOBS["accuracy"], "instance": ""}.items()
            ),
        ): 0.9
    }


def test_prometheus_scrapes_pushed_series_with_their_labels(gateway: str, tmp_path: Path) -> None:
    samples = drift_samples("regressor", {"x0": 0.5, "x1": 0.01})
    push_samples(gateway, DRIFT, {"model": "regressor"}, samples)
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "pushgateway"]
    assert job["honor_labels"] is True
    job["static_configs"][0]["targets"] = [gateway.removeprefix("http://")]
    config = {"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}

    with run_prometheus(config, tmp_path) as api:
        query = f'{names.DRIFT_SCORE}{{model="regressor"}}'
        found = wait_for(api, query, count=2)
        labels = {s["metric"]["feature"]: s["metric"] for s in found}
        assert labels["x0"] == {
            "__name__": names.DRIFT_SCORE,
            "job": DRIFT,  # as pushed: honor_labels keeps it over job="pushgateway"
            # (the gateway's instance="" is gone: Prometheus drops empty labels)
            "namespace": "compose",
            "model": "regressor",
            "version": "2",
            "feature": "x0",
            "method": "psi",
        }
        values = {s["metric"]["feature"]: float(s["value"][1]) for s in found}
        assert values == {"x0": 0.5, "x1": 0.01}
        (share,) = wait_for(api, f'{names.DRIFT_SHARE}{{model="regressor"}}', count=1)
        assert float(share["value"][1]) == 0.5


def wait_for(api: PrometheusApi, query: str, count: int, timeout: float = 20) -> list[dict]:
    """Poll query until it returns count series; fail with the targets' state otherwise."""
    deadline = time.monotonic() + timeout
    while len(found := api.query(query)) != count:
        assert time.monotonic() < deadline, f"{query}: {found}; targets {api.targets()}"
        time.sleep(0.25)
    return found


def test_unreachable_gateway_raises_push_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there any more
    with pytest.raises(PushError, match=rf"{url} unreachable: .*[Cc]onnection refused"):
        push_samples(url, DRIFT, {"model": "tabular"}, [Sample(names.DRIFT_SHARE, 0.1, {})])


def test_refused_push_raises_push_error_with_status_and_reason(gateway: str) -> None:
    # Another pusher owns the name as a counter; the gateway refuses the gauge. Which of the
    # two families it reports as the wrong type varies from push to push.
    name = "tfserving_model_test_clash"
    requests.put(f"{gateway}/metrics/job/other", data=f"# TYPE {name} counter\n{name} 1\n")
    with pytest.raises(
        PushError,
        match=r"answered HTTP 400: .*tfserving_model_test_clash.* is not a (COUNTER|GAUGE)",
    ):
        push_samples(gateway, DRIFT, {"model": "tabular"}, [Sample(name, 1.0, {})])


@pytest.mark.parametrize(
    ("gateway_url", "samples", "message"),
    [
        pytest.param("127.0.0.1:9091", [], "not http", id="no-scheme"),
        pytest.param("ftp://gw:9091", [], "not http", id="wrong-scheme"),
        pytest.param("http://gw:99999", [], "invalid port", id="bad-port"),
        pytest.param("http://gw", [Sample("drift-score", 1, {})], "metric name", id="name"),
        pytest.param("http://gw", [Sample("a", 1, {"fea ture": "x"})], "label name", id="label"),
        pytest.param("http://gw", [Sample("a", 1, {"job": "x"})], "label name", id="job-label"),
        pytest.param(
            "http://gw", [Sample("a", 1, {"f": "x"}), Sample("a", 2, {"f": "x"})], "twice", id="dup"
        ),
        pytest.param(
            "http://gw", [Sample("a", 1, {"model": "other"})], "contradicts", id="grouping"
        ),
    ],
)
def test_invalid_input_is_refused_before_pushing(
    gateway_url: str, samples: list[Sample], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        push_samples(gateway_url, DRIFT, {"model": "tabular"}, samples)


def test_model_quality_alerts_pass_their_promtool_unit_tests() -> None:
    assert rules.promtool_test_problems() == []
    groups = [g for g in rules.load_groups() if g["name"].startswith("tfserving.model_quality")]
    alert_names = set(rules.alerts(groups))
    assert alert_names == {
        "ModelInputDrift",
        "ModelPredictionDrift",
        "ModelQualityDegraded",
        "ModelQualityJobStale",
    }
    tested = {
        case["alertname"]
        for path in rules.rule_test_files()
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alert_names <= tested, f"alerts no unit test sees firing: {alert_names - tested}"


def test_promtool_unit_tests_catch_a_wrong_expectation(tmp_path: Path) -> None:
    """The unit tests' verdict is real: the same file expecting no drift alert fails."""
    (source,) = [p for p in rules.rule_test_files() if p.name == "model_quality.test.yml"]
    tests = yaml.safe_load(source.read_text())
    tests["rule_files"] = [str(rules.RULES)]
    for case in tests["tests"][0]["alert_rule_test"]:
        if case["alertname"] == "ModelInputDrift":
            case["exp_alerts"] = []
    broken = tmp_path / "broken.test.yml"
    broken.write_text(yaml.safe_dump(tests))
    (problem,) = rules.promtool_test_problems([broken])
    assert "ModelInputDrift" in problem
