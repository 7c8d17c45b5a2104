"""The Prometheus rules file: its records and alerts, its PrometheusRule twin, and promtool."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy_checks.layout import PROMETHEUS_RULE, ROOT, RULE_TESTS, RULES
from deploy_checks.tools import find_tool

_HEADER = """\
# GENERATED from {source} by `python -m deploy_checks generate`: do not edit.
# Edit the rules file instead; `make k8s-check` fails while this copy is stale.
"""
# One alert term: "<recorded signal> <comparison> <number>".
_TERM = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(==|!=|>=|<=|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)$")


@dataclass(frozen=True)
class AlertTerm:
    """One comparison of an alert's expression, e.g. record > 0.05."""

    record: str
    op: str
    threshold: str

    def as_bool_query(self) -> str:
        """The term with `bool`: it answers 0 or 1 for every series, firing or not."""
        return f"{self.record} {self.op} bool {self.threshold}"


def load_groups(path: Path = RULES) -> list[dict[str, Any]]:
    """Return the rule groups of a Prometheus rules file."""
    groups: list[dict[str, Any]] = yaml.safe_load(path.read_text())["groups"]
    return groups


def records(groups: list[dict[str, Any]]) -> dict[str, str]:
    """Return {recorded name: expression} over all groups."""
    return {r["record"]: r["expr"] for g in groups for r in g["rules"] if "record" in r}


def alerts(groups: list[dict[str, Any]]) -> dict[str, str]:
    """Return {alert name: expression} over all groups."""
    return {r["alert"]: r["expr"] for g in groups for r in g["rules"] if "alert" in r}


def alert_terms(expr: str) -> list[AlertTerm]:
    """Split an alert expression into its terms, joined by `or`.

    Raises:
        ValueError: a term is not "<recorded signal> <op> <number>", the shape every alert
            in the rules file keeps so each of its signals can be evaluated on its own.
    """
    terms = []
    for text in re.split(r"\s+or\s+", expr.strip()):
        match = _TERM.match(text.strip())
        if not match:
            raise ValueError(f"alert term {text.strip()!r} is not '<record> <op> <number>'")
        terms.append(AlertTerm(*match.groups()))
    return terms


def prometheus_rule_text(groups: list[dict[str, Any]]) -> str:
    """Return k8s/components/monitoring/prometheusrule.yaml for these groups."""
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "tfserving",
            "labels": {
                "app.kubernetes.io/name": "tfserving",
                "app.kubernetes.io/part-of": "tfserving-bundle",
                "release": "kube-prometheus-stack",
            },
        },
        "spec": {"groups": groups},
    }
    body: str = yaml.dump(rule, Dumper=_BlockDumper, sort_keys=False, width=100)
    return _HEADER.format(source=RULES.relative_to(ROOT).as_posix()) + body


def write_prometheus_rule() -> Path:
    """Regenerate the PrometheusRule from the rules file and return its path."""
    PROMETHEUS_RULE.write_text(prometheus_rule_text(load_groups()))
    return PROMETHEUS_RULE


def prometheus_rule_problems() -> list[str]:
    """Return a problem when the PrometheusRule is missing or differs from the rules file."""
    expected = prometheus_rule_text(load_groups())
    if not PROMETHEUS_RULE.exists() or PROMETHEUS_RULE.read_text() != expected:
        name = PROMETHEUS_RULE.relative_to(ROOT)
        return [f"{name} is stale: run `python -m deploy_checks generate`"]
    return []


def promtool_problems(path: Path = RULES) -> list[str]:
    """Return promtool's complaints about a rules file (none when it passes).

    Raises:
        ToolMissing: promtool is not installed.
    """
    command = [find_tool("promtool"), "check", "rules", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [f"promtool check rules {path}: {(result.stdout + result.stderr).strip()}"]
    return []


def rule_test_files() -> list[Path]:
    """Return the promtool unit test files for the rules (deploy/prometheus/tests)."""
    return sorted(RULE_TESTS.glob("*.test.yml"))


def promtool_test_problems(paths: list[Path] | None = None) -> list[str]:
    """Return promtool's failures for the rules' unit tests (none when all pass).

    Raises:
        ToolMissing: promtool is not installed.
    """
    paths = rule_test_files() if paths is None else paths
    if not paths:
        return []
    # promtool reads each test file's rule_files relative to that file.
    command = [find_tool("promtool"), "test", "rules", *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [f"promtool test rules: {(result.stdout + result.stderr).strip()}"]
    return []


class _BlockDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML: no stubs installed
    """Writes multi-line strings (PromQL, descriptions) as literal blocks, as people do."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)
