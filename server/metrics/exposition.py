"""TF Serving's Prometheus text page: metric names, number formats and one metric's lines."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# TF Serving answers with plain "text/plain"; naming the format version and charset lets
# Prometheus pick its parser without guessing, and model paths in labels may be UTF-8.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NOT_NAME_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_LEADING_DIGIT = re.compile(r"[0-9]")
_KINDS = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}


def prometheus_name(raw_name: str) -> str:
    """Return the name TF Serving exposes for a raw metric name: '/a/b' becomes ':a:b'."""
    name = _NOT_NAME_CHAR.sub(":", raw_name)
    return "_" + name if _LEADING_DIGIT.match(name) else name


def exponential_buckets(scale: float, growth_factor: float, count: int) -> tuple[float, ...]:
    """Return TF's Buckets::Exponential limits, scale * growth_factor**i for i < count.

    Raises:
        ValueError: if count is not positive.
    """
    if count <= 0:
        raise ValueError(f"bucket count must be positive, got {count}")
    # Repeated multiplication, as TF computes them, so the limits equal TF's bit for bit.
    limits = [float(scale)]
    for _ in range(count - 1):
        limits.append(limits[-1] * growth_factor)
    return tuple(limits)


def format_bound(limit: float) -> str:
    """Return a bucket limit as TF Serving prints it (absl::StrCat, six significant digits)."""
    return "+Inf" if math.isinf(limit) else f"{limit:.6g}"


def format_value(value: float) -> str:
    """Return a sample value: integral values without a point, others in full precision."""
    if value.is_integer():
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _escape(value: str) -> str:
    # TF Serving escapes only \ and "; a raw newline would also break the line format.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_labels(names: Sequence[str], values: Sequence[str]) -> str:
    """Return 'name="value",...' for one series, in the metric's label order."""
    return ",".join(f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True))


class ExportedMetric:
    """A prometheus-client metric that accumulates, exposed under a TF Serving name and shape."""

    def __init__(
        self,
        raw_name: str,
        kind: str,
        description: str,
        labelnames: Sequence[str] = (),
        *,
        registry: CollectorRegistry,
        buckets: Sequence[float] = (),
    ) -> None:
        """Create the metric in registry; kind is "counter", "gauge" or "histogram".

        Raises:
            ValueError: if kind is none of the three, or the name is already in registry.
        """
        if kind not in _KINDS:
            raise ValueError(f"unknown metric kind {kind!r}")
        self.raw_name = raw_name
        self.name = prometheus_name(raw_name)
        self.kind = kind
        self.labelnames = tuple(labelnames)
        extra: dict[str, Any] = {"buckets": tuple(buckets)} if kind == "histogram" else {}
        self.metric = _KINDS[kind](
            self.name, description, self.labelnames, registry=registry, **extra
        )
        self._children: dict[tuple[Any, ...], Any] = {}

    def child(self, *labelvalues: Any) -> Any:
        """Return the series for labelvalues (the metric itself when it has no labels)."""
        child = self._children.get(labelvalues)
        if child is None:
            child = self.metric.labels(*labelvalues) if self.labelnames else self.metric
            self._children[labelvalues] = child
        return child

    def forget(self, *labelvalues: Any) -> None:
        """Drop the series for labelvalues from the page; callers serialise this with child()."""
        wanted = tuple(map(str, labelvalues))
        for key in list(self._children):  # a snapshot: other series may be added meanwhile
            if tuple(map(str, key)) == wanted:
                self._children.pop(key, None)
        self.metric.remove(*wanted)

    def lines(self) -> list[str]:
        """Return this metric's lines of the page: '# TYPE' then its series sorted by labels."""
        lines = [f"# TYPE {self.name} {self.kind}"]
        for family in self.metric.collect():
            if self.kind == "histogram":
                lines += self._histogram_lines(family.name, family.samples)
            else:
                lines += self._scalar_lines(family.name, family.samples)
        return lines

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        return tuple(labels[name] for name in self.labelnames)

    def _scalar_lines(self, family_name: str, samples: Iterable[Any]) -> list[str]:
        # prometheus-client names a counter's value "<name>_total"; TF Serving's has no suffix.
        wanted = family_name + "_total" if self.kind == "counter" else family_name
        series = sorted((self._key(s.labels), s.value) for s in samples if s.name == wanted)
        return [
            f"{self.name}{{{format_labels(self.labelnames, key)}}} {format_value(value)}"
            for key, value in series
        ]

    def _histogram_lines(self, family_name: str, samples: Iterable[Any]) -> list[str]:
        buckets: dict[tuple[str, ...], list[tuple[float, float]]] = {}
        sums: dict[tuple[str, ...], float] = {}
        for sample in samples:
            if sample.name == family_name + "_bucket":
                bound = float(sample.labels["le"])
                buckets.setdefault(self._key(sample.labels), []).append((bound, sample.value))
            elif sample.name == family_name + "_sum":
                sums[self._key(sample.labels)] = sample.value
        lines = []
        for key in sorted(buckets):
            labels = format_labels(self.labelnames, key)
            prefix = f"{self.name}_bucket{{{labels}{',' if labels else ''}le="
            lines += [f'{prefix}"{format_bound(b)}"}} {format_value(n)}' for b, n in buckets[key]]
            # TF Serving's order: _sum before _count, and _count is the +Inf bucket.
            lines.append(f"{self.name}_sum{{{labels}}} {format_value(sums[key])}")
            lines.append(f"{self.name}_count{{{labels}}} {format_value(buckets[key][-1][1])}")
        return lines


def render_page(metrics: Iterable[ExportedMetric]) -> bytes:
    """Return the page for metrics, ordered by raw name as TF Serving's registry is."""
    lines: list[str] = []
    for metric in sorted(metrics, key=lambda metric: metric.raw_name):
        lines += metric.lines()
    return ("\n".join(lines) + "\n").encode()
