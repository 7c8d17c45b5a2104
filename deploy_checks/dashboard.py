"""The Grafana dashboard: its queries, its variables, and the shape provisioning needs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy_checks.layout import DASHBOARD

DATASOURCE_REF = "${datasource}"
# $name, ${name}, ${name:format} and [[name]], Grafana's variable syntaxes.
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?(\w+)\)$", re.DOTALL)


@dataclass(frozen=True)
class PanelQuery:
    """One query of one panel."""

    panel: str
    ref_id: str
    expr: str


@dataclass(frozen=True)
class LabelValuesQuery:
    """A query variable's `label_values(<selector>, <label>)`."""

    variable: str
    selector: str
    label: str


def load(path: Path = DASHBOARD) -> dict[str, Any]:
    """Return the dashboard JSON."""
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every panel, including those inside collapsed rows; rows themselves are skipped."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def panel_queries(dashboard: dict[str, Any]) -> list[PanelQuery]:
    """Return every panel query, in the dashboard's order."""
    return [
        PanelQuery(panel["title"], target["refId"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def label_values_queries(dashboard: dict[str, Any]) -> list[LabelValuesQuery]:
    """Return the query variables, each a label_values(...) over Prometheus.

    Raises:
        ValueError: a query variable is not label_values(...).
    """
    queries = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        text = (query["query"] if isinstance(query, dict) else query).strip()
        match = _LABEL_VALUES.match(text)
        if not match:
            raise ValueError(f"variable {variable['name']}: {text!r} is not label_values(...)")
        queries.append(LabelValuesQuery(variable["name"], match[1] or "", match[2]))
    return queries


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace Grafana variables in expr with values.

    Raises:
        KeyError: expr uses a variable values has no entry for.
    """
    return _VARIABLE.sub(lambda m: values[m[1] or m[2] or m[3]], expr)


def variables_used(expr: str) -> set[str]:
    """Return the names of the Grafana variables expr uses."""
    return {m[1] or m[2] or m[3] for m in _VARIABLE.finditer(expr)}


def structure_problems(dashboard: dict[str, Any]) -> list[str]:
    """Return what keeps the dashboard from being provisioned and switched between Prometheuses.

    A provisioned dashboard needs a fixed uid and no numeric id; every panel and query reads
    the `datasource` variable (type datasource, Prometheus), never a fixed datasource uid;
    panel ids are unique.
    """
    problems = []
    if not dashboard.get("uid"):
        problems.append("dashboard has no uid (provisioning needs a fixed one)")
    if dashboard.get("id") is not None:
        problems.append("dashboard has an id; provisioned dashboards must not")
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append("no `datasource` variable of type datasource over prometheus")
    ids = [panel.get("id") for panel in panels(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids are not unique: {ids}")
    users = [(f"panel {p['title']!r}", p) for p in panels(dashboard)]
    users += [
        (f"panel {p['title']!r} query {t['refId']}", t)
        for p in panels(dashboard)
        for t in p.get("targets", [])
    ]
    users += [(f"variable {name}", v) for name, v in variables.items() if v["type"] == "query"]
    for where, user in users:
        if user.get("datasource", {}).get("uid") != DATASOURCE_REF:
            problems.append(f"{where} does not use the datasource variable ({DATASOURCE_REF})")
    return problems
