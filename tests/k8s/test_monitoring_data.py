"""Every alert and dashboard query returns data from a real Prometheus scraping the server.

The embedded server runs with the Deployment's own flags on the example models; Prometheus
(Debian's binary) runs from deploy/prometheus/prometheus.yml with a 1 s interval, loads the
rules file and scrapes it while the test sends REST and gRPC traffic, errors included, and
publishes a corrupt model version. A real Pushgateway holds what the model-quality jobs push
(tests/k8s/quality.py), scraped by the same Prometheus. Then every recorded signal, every alert term, every
dashboard query and variable is evaluated through Prometheus' HTTP API and must return data.
Expressions that read metrics only a cluster has are left out by one rule,
deploy_checks.promql.CLUSTER_ONLY_METRICS; test_cluster_only_exclusions lists them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_checks import dashboard, rules
from deploy_checks.layout import ROOT, SERVING_CONFIG
from deploy_checks.promql import CLUSTER_ONLY_METRICS, cluster_only, metric_names
from deploy_checks.tools import ToolMissing
from server.core import UNKNOWN_MODEL_LABEL
from serving_config.model_config import render_local_text
from serving_config.schema import MonitoringConfig, parse_text
from tests.k8s.embedded import serve
from tests.k8s.objects import container, flags
from tests.k8s.prometheus import PrometheusApi, run_prometheus
from tests.k8s.pushgateway import run_pushgateway
from tests.k8s.quality import EXPECTED_ALERTS, push_quality_runs
from tests.k8s.traffic import send_traffic

pytestmark = pytest.mark.slow  # end to end: a real Prometheus scraping the server under traffic

PROMETHEUS_YML = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GROUPS = rules.load_groups()
RECORDS = rules.records(GROUPS)
ALERT_TERMS = [
    (name, term) for name, expr in rules.alerts(GROUPS).items() for term in rules.alert_terms(expr)
]
DASHBOARD = dashboard.load()
PANEL_QUERIES = dashboard.panel_queries(DASHBOARD)
METRICS_PATH = parse_text(
    MonitoringConfig, (SERVING_CONFIG / "monitoring.config").read_text()
).prometheus_config.path
# Grafana's interval variables, given values that suit a 1 s scrape interval.
INTERVALS = {"__rate_interval": "30s", "__interval": "5s", "__range": "5m"}


def runs_locally(expr: str) -> bool:
    """False for expressions that read a cluster-only metric, directly or through a record."""
    return not cluster_only(expr, RECORDS)


def server_flags(objects, models_config: Path) -> list[str]:
    """The Deployment's arguments, with container paths mapped to this checkout's files."""
    args = []
    for name, value in flags(container(objects)["args"]).items():
        if name in ("port", "rest_api_port"):
            continue  # the test picks free ports
        if value.startswith("/config/"):
            file_name = value.removeprefix("/config/")
            value = str(
                models_config if file_name == "models.config" else SERVING_CONFIG / file_name
            )
        args.append(f"--{name}={value.replace('$(CPU_LIMIT)', '2')}")
    # Fail the corrupt version at once instead of retrying it for five minutes.
    return [*args, "--max_num_load_retries=0"]


def prometheus_config(target: str, metrics_path: str, gateway: str) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml, pointed at the test server and Pushgateway, scraping
    every second."""
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(PROMETHEUS_YML.parent / name) for name in config["rule_files"]]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs.keys() == {"tfserving", "pushgateway"}
    assert jobs["tfserving"]["metrics_path"] == metrics_path
    jobs["tfserving"]["static_configs"][0]["targets"] = [target]
    jobs["pushgateway"]["static_configs"][0]["targets"] = [gateway.removeprefix("http://")]
    return config


def variable_values(api: PrometheusApi) -> dict[str, str]:
    """Every dashboard variable set to all its values, as Grafana's "All" with a regex would."""
    values = dict(INTERVALS)
    for query in dashboard.label_values_queries(DASHBOARD):
        selector = dashboard.substitute(query.selector, values)
        found = api.label_values(query.label, selector or None)
        values[query.variable] = "|".join(found)
    return values


def wait_for_first_scrape(api: PrometheusApi, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len([s for s in api.query("up") if s["value"][1] == "1"]) < 2:
        assert time.monotonic() < deadline, f"no successful scrape: {api.targets()}"
        time.sleep(0.5)


def without_data(api: PrometheusApi) -> list[str]:
    """The local queries that have no data yet (the tests below report each one)."""
    values = variable_values(api)
    queries = [r for r in RECORDS.values() if runs_locally(r)]
    queries += [t.as_bool_query() for _, t in ALERT_TERMS if runs_locally(t.record)]
    queries += [dashboard.substitute(q.expr, values) for q in PANEL_QUERIES if runs_locally(q.expr)]
    return [q for q in queries if not api.query(q)]


@pytest.fixture(scope="module")
def scraped(example_models, rendered, tmp_path_factory) -> dict[str, Any]:
    """Run server, Prometheus and traffic; wait until every local query has data."""
    workdir = tmp_path_factory.mktemp("monitoring")
    models = workdir / "models"
    shutil.copytree(example_models, models)
    models_config = workdir / "models.config"
    models_config.write_text(render_local_text(SERVING_CONFIG / "models.config", models))
    objects = rendered["prod"]
    try:
        with (
            serve(server_flags(objects, models_config)) as server,
            run_pushgateway(workdir) as gateway,
        ):
            push_quality_runs(gateway)
            host = server.rest.removeprefix("http://")
            config = prometheus_config(host, METRICS_PATH, gateway)
            with run_prometheus(config, workdir) as api:
                # A new regressor version that fails to load (a SavedModel without the
                # "serve" MetaGraph); version 1 keeps serving.
                broken = models / "regressor" / ".staging-2"
                broken.mkdir()
                (broken / "saved_model.pb").write_bytes(b"")
                os.rename(broken, models / "regressor" / "2")
                # Prometheus finds its targets a few seconds after start; traffic sent before
                # its first scrape would never show up as a rate.
                wait_for_first_scrape(api)
                started = time.monotonic()
                outcomes = send_traffic(server, models)
                traffic_seconds = time.monotonic() - started
                deadline = time.monotonic() + 30
                while without_data(api) and time.monotonic() < deadline:
                    time.sleep(1)
                yield {
                    "api": api,
                    "values": variable_values(api),
                    "outcomes": outcomes,
                    "traffic_seconds": traffic_seconds,
                }
    except ToolMissing as err:
        pytest.fail(str(err))


def test_traffic_was_bounded_and_mixed(scraped) -> None:
    outcomes = scraped["outcomes"]
    total = sum(outcomes.values())
    assert 200 <= total <= 1000, outcomes
    assert outcomes["rest", "200"] > 50 and outcomes["grpc", "OK"] > 50, outcomes
    assert outcomes["rest", "404"] and outcomes["rest", "400"] and outcomes["grpc", "NOT_FOUND"]


@pytest.mark.parametrize(
    "expr", [pytest.param(e, id=n) for n, e in RECORDS.items() if runs_locally(e)]
)
def test_recorded_signal_has_data(scraped, expr: str) -> None:
    assert scraped["api"].query(expr), f"no data for:\n{expr}"


@pytest.mark.parametrize(
    "term",
    [pytest.param(t, id=f"{a}:{t.record}") for a, t in ALERT_TERMS if runs_locally(t.record)],
)
def test_alert_term_has_data(scraped, term: rules.AlertTerm) -> None:
    # With `bool` a term answers 0 or 1 per series whether or not the alert fires, so an
    # empty answer means the signal itself is missing.
    assert scraped["api"].query(term.as_bool_query()), f"no data for {term}"


@pytest.mark.parametrize(
    "query",
    [pytest.param(q, id=f"{q.panel}:{q.ref_id}") for q in PANEL_QUERIES if runs_locally(q.expr)],
)
def test_dashboard_query_has_data(scraped, query: dashboard.PanelQuery) -> None:
    assert dashboard.variables_used(query.expr) <= scraped["values"].keys()
    expr = dashboard.substitute(query.expr, scraped["values"])
    assert scraped["api"].query(expr), f"panel {query.panel!r} has no data for:\n{expr}"


def test_dashboard_variables_have_values(scraped) -> None:
    for query in dashboard.label_values_queries(DASHBOARD):
        assert scraped["values"][query.variable], f"variable {query.variable} has no values"
    assert {"tabular", "digits", "regressor"} <= set(scraped["values"]["model"].split("|"))


def test_every_metric_name_exists(scraped) -> None:
    """Also catches a wrong name in an `or` branch, which the data checks alone would miss."""
    exported = set(scraped["api"].label_values("__name__"))
    expressions = [*RECORDS.values(), *(q.expr for q in PANEL_QUERIES)]
    expressions += [v.selector for v in dashboard.label_values_queries(DASHBOARD)]
    wanted = set().union(*(metric_names(e) for e in expressions))
    missing = wanted - exported - set(RECORDS) - CLUSTER_ONLY_METRICS
    assert not missing, f"metrics neither exported by the server nor recorded: {missing}"


def test_every_rule_evaluates_cleanly(scraped) -> None:
    loaded = scraped["api"].rules()
    assert len(loaded) == len(RECORDS) + len(rules.alerts(GROUPS))
    broken = {r["name"]: r.get("lastError") for r in loaded if r["health"] != "ok"}
    assert not broken


def test_faults_raise_their_alerts(scraped) -> None:
    expected = {
        ("TFServingModelLoadFailed", "regressor"),  # the corrupt version 2
        # every call to "nope" fails; a name the config does not list is counted as <unknown>
        ("TFServingHighErrorRate", UNKNOWN_MODEL_LABEL),
        *EXPECTED_ALERTS,  # the faults tests/k8s/quality.py pushed
    }
    # Rules run every second; give them a few rounds to see the last scrapes.
    deadline = time.monotonic() + 15
    while True:
        # TF Serving's signals name the model model_name; the pushed ones, model.
        active = {
            (a["labels"]["alertname"], a["labels"].get("model_name", a["labels"].get("model")))
            for a in scraped["api"].alerts()
        }
        about_digits = {name for name, model in active if model == "digits"}
        if (expected <= active and not about_digits) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert expected <= active, active
    assert not about_digits, "alerts about digits, which answered every call it got"


def test_cluster_only_exclusions() -> None:
    """What the data checks leave out, so a new exclusion is a deliberate change here."""
    excluded = [n for n, e in RECORDS.items() if not runs_locally(e)]
    excluded += [a for a, t in ALERT_TERMS if not runs_locally(t.record)]
    excluded += [q.panel for q in PANEL_QUERIES if not runs_locally(q.expr)]
    assert excluded == [
        "namespace_pod:tfserving_container_restarts:increase15m",
        "TFServingPodRestarting",
        "CPU by pod",
        "Memory by pod",
    ]
