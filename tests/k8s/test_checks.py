"""`make k8s-check`'s parts: promtool, the generated PrometheusRule, the dashboard, compose."""

from __future__ import annotations

import yaml

from deploy_checks import dashboard, rules
from deploy_checks.__main__ import main
from deploy_checks.layout import ROOT, overlays


def test_promtool_accepts_the_rules() -> None:
    assert rules.promtool_problems() == []


def test_prometheus_rule_is_generated_from_the_rules_file() -> None:
    assert rules.prometheus_rule_problems() == []
    wrapped = yaml.safe_load(rules.PROMETHEUS_RULE.read_text())
    assert wrapped["spec"]["groups"] == rules.load_groups()


def test_every_alert_compares_recorded_signals() -> None:
    groups = rules.load_groups()
    records = rules.records(groups)
    for name, expr in rules.alerts(groups).items():
        for term in rules.alert_terms(expr):
            assert term.record in records, f"{name}: {term.record} is not a recorded signal"


def test_dashboard_is_ready_for_provisioning() -> None:
    board = dashboard.load()
    assert dashboard.structure_problems(board) == []
    titles = [q.panel for q in dashboard.panel_queries(board)]
    assert len(set(titles)) >= 10


def test_compose_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    build = services["tfserving"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
    for service in services.values():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            assert (ROOT / host).exists(), f"{host} does not exist"
    prometheus_yml = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert prometheus_yml["rule_files"] == [rules.RULES.name]


def test_compose_runs_every_host_prometheus_scrapes() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prometheus_yml = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    hosts = {
        target.rsplit(":", 1)[0]
        for job in prometheus_yml["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    assert hosts and hosts <= set(services) | {"localhost"}, hosts - set(services)


def test_check_command_passes(capsys) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("ok   overlay") == len(overlays())
