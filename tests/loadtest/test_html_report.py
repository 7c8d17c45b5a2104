"""The run's own HTML report: one file, no network, and every number the one summary.json holds."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from loadtest.html_report import render_report
from loadtest.summary import RunSummary

pytestmark = pytest.mark.slow  # reads the reports of test_runs' Locust runs

RUNS = [pytest.param("rest_run", id="open-loop"), pytest.param("grpc_run", id="closed-loop")]
CELL = re.compile(r'data-key="([^"]+)">([^<]*)<')


def _value(document: Any, path: list[str]) -> Any:
    """summary.json's value at a path of keys (list indexes as strings)."""
    node = document
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize("run", RUNS)
def test_every_number_equals_summary_json(run: str, request: pytest.FixtureRequest) -> None:
    report: Path = request.getfixturevalue(run).report
    page = (report / "report.html").read_text()
    document = json.loads((report / "summary.json").read_text())
    cells = CELL.findall(page)
    paths = [json.loads(html.unescape(key)) for key, _ in cells]
    for expected in (["total", "latency_ms", "p99"], ["total", "count"], ["settings", "mode"]):
        assert expected in paths
    assert ["slo", "objectives", "0", "actual"] in paths
    for (key, shown), path in zip(cells, paths, strict=True):
        value = _value(document, path)
        if isinstance(value, float):
            digits = len(shown.split(".")[1]) if "." in shown else 0
            assert float(shown) == pytest.approx(round(value, digits)), key
        else:
            assert html.unescape(shown) == str(value), key


@pytest.mark.parametrize("run", RUNS)
def test_the_page_stands_alone(run: str, request: pytest.FixtureRequest) -> None:
    page = (request.getfixturevalue(run).report / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from the network
    assert 'src="data:image/png;base64,' in page
    assert "<script" not in page


def test_closed_loop_is_labelled_and_the_verdicts_shown(grpc_run) -> None:
    page = (grpc_run.report / "report.html").read_text()
    assert "closed loop: not corrected for coordinated omission" in page
    assert page.count('class="fail">FAIL') == 3  # its three unreachable objectives


def test_a_summary_renders_again_identically(rest_run) -> None:
    summary = RunSummary.load(rest_run.report / "summary.json")
    page = render_report(summary, rest_run.report / "latency.png")
    assert page == (rest_run.report / "report.html").read_text()
