"""Where the deployment files live, relative to the repository root."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
BASE = K8S / "base"
OVERLAYS = K8S / "overlays"
SERVING_CONFIG = ROOT / "serving_config"
RULES = ROOT / "deploy" / "prometheus" / "tfserving.rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests"  # promtool unit tests, *.test.yml
PROMETHEUS_RULE = K8S / "components" / "monitoring" / "prometheusrule.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "tfserving.json"


def overlays() -> list[str]:
    """Return the name of every overlay folder (each one a kustomization)."""
    return sorted(p.parent.name for p in OVERLAYS.glob("*/kustomization.yaml"))
