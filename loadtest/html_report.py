"""The run's own report: one self-contained HTML file, written from the summary it sits beside.

Everything on the page comes from the RunSummary that summary.json holds (each number carries
its summary.json path in a data-key attribute), and the plot is embedded, so the file opens
anywhere, offline, and cannot disagree with the JSON.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loadtest.summary import RequestSummary, RunSummary

__all__ = ["render_report", "write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #176f2c; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.note { background: #fff4ce; padding: 0.5em 1em; border-left: 4px solid #e0a800; }
img { max-width: 100%; }
"""
_PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")
_STATUS = re.compile(r"\b(HTTP \d{3}|[A-Z][A-Z_]{3,})\b")


KeyPath = tuple[str, ...]


def _cell(value: Any, key: KeyPath | None = None, digits: int = 3) -> str:
    """A table cell; key is the value's path in summary.json, written as a JSON list (request
    names and percentiles such as p99.9 hold dots, so a dotted string would be ambiguous)."""
    text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    attribute = f' data-key="{html.escape(json.dumps(list(key)))}"' if key else ""
    return f"<td{attribute}>{html.escape(text)}</td>"


def _table(header: Iterable[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>{''.join(f'<tr>{r}</tr>' for r in rows)}</table>"


def _request_row(label: str, request: RequestSummary, key: KeyPath) -> str:
    cells = [f"<td>{html.escape(label)}</td>", _cell(request.count, (*key, "count"))]
    cells += [_cell(request.failures, (*key, "failures")), _cell(request.rps, (*key, "rps"), 1)]
    latency = request.latency.to_dict()
    cells += [_cell(latency[p], (*key, "latency_ms", p)) for p in _PERCENTILES]
    service = request.service_time.to_dict() if request.service_time else None
    for p in ("p50", "p99"):
        cells.append(_cell(service[p], (*key, "service_time_ms", p)) if service else "<td>-</td>")
    return "".join(cells)


def _requests(summary: RunSummary) -> str:
    header = ["request", "count", "failures", "req/s"]
    header += [f"latency {p} ms" for p in _PERCENTILES]
    header += ["service p50 ms", "service p99 ms"]
    rows = [_request_row(k, r, ("requests", k)) for k, r in summary.requests.items()]
    rows.append(_request_row("all requests", summary.total, ("total",)))
    return _table(header, rows)


def _rates(summary: RunSummary) -> str:
    settings = summary.settings
    rows = [
        "<td>mode</td>" + _cell(settings.get("mode", ""), ("settings", "mode")),
        "<td>latency from</td>"
        + _cell(settings.get("latency_from", ""), ("settings", "latency_from")),
    ]
    if summary.pacing:
        for label, name in (("target", "target_rps"), ("achieved", "achieved_rps")):
            value = summary.pacing[name]
            rows.append(f"<td>{label} rate (req/s)</td>" + _cell(value, ("pacing", name), 1))
    rows.append("<td>duration (s)</td>" + _cell(summary.duration_s, ("duration_s",), 1))
    return _table(["", ""], rows)


def _errors(summary: RunSummary) -> str:
    if not summary.errors:
        return "<p>No failed requests.</p>"
    rows = []
    for index, error in enumerate(summary.errors):
        match = _STATUS.search(error["error"])
        rows.append(
            _cell(match.group(1) if match else "-")
            + _cell(error["name"])
            + _cell(error["count"], ("errors", str(index), "count"))
            + _cell(error["error"])
        )
    return _table(["status", "request", "count", "message"], rows)


def _slo(summary: RunSummary) -> str:
    if not summary.slo:
        return "<p>No SLO was checked.</p>"
    rows = []
    for index, objective in enumerate(summary.slo.get("objectives", [])):
        verdict = "pass" if objective["passed"] else "fail"
        rows.append(
            _cell(objective["name"])
            + _cell(objective["threshold"], ("slo", "objectives", str(index), "threshold"), 4)
            + _cell(objective["actual"], ("slo", "objectives", str(index), "actual"), 4)
            + f'<td class="{verdict}">{verdict.upper()}</td>'
        )
    return _table(["objective", "threshold", "this run", "verdict"], rows)


def _verdict(summary: RunSummary) -> str:
    generator = summary.generator
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in generator.get("reasons", []))
    verdict = html.escape(str(generator.get("verdict", "none")))
    text = f"<p>Bottleneck verdict: <b>{verdict}</b></p>"
    if summary.server:
        text += f"<p>The server's own times: {html.escape(str(summary.server))}</p>"
    return text + (f"<ul>{reasons}</ul>" if reasons else "")


def render_report(summary: RunSummary, plot: Path | None) -> str:
    """The report page for summary, with the plot PNG embedded when given."""
    model = summary.model
    title = f"Load test: {model['name']} version {summary.served_version}"
    note = ""
    if summary.settings.get("mode") == "closed loop":
        note = f'<p class="note">{html.escape(str(summary.settings.get("latency_from")))}</p>'
    image = ""
    if plot is not None and plot.is_file():
        data = base64.b64encode(plot.read_bytes()).decode("ascii")
        image = f'<img alt="latency and throughput" src="data:image/png;base64,{data}">'
    settings = _table(
        ["setting", "value"],
        (_cell(k) + _cell(v) for k, v in sorted(summary.settings.items()) if v is not None),
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p>Started {html.escape(summary.started)}; "
            f"{html.escape(str(summary.workload.get('source', '')))}.</p>",
            note,
            "<h2>Rates</h2>",
            _rates(summary),
            "<h2>Latency per request name</h2>",
            "<p>Latency is what a caller waited (see 'latency from'); service time is the call "
            "alone, from its actual send. Milliseconds, from HDR histograms.</p>",
            _requests(summary),
            "<h2>Service level objectives</h2>",
            _slo(summary),
            "<h2>Errors</h2>",
            _errors(summary),
            "<h2>Who limited the run</h2>",
            _verdict(summary),
            "<h2>Plots</h2>",
            image,
            "<h2>Settings</h2>",
            settings,
            "</body></html>",
        ]
    )


def write_report(summary: RunSummary, path: Path, plot: Path | None) -> Path:
    """Write the report page to path and return it.

    Raises:
        OSError: the file cannot be written.
    """
    path.write_text(render_report(summary, plot))
    return path
