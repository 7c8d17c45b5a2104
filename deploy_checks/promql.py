"""What a PromQL expression reads: the metric names in it, and whether only a cluster has them."""

from __future__ import annotations

import re

# Metrics that exist only in a Kubernetes cluster, so a local Prometheus scraping the
# embedded server cannot have them. An expression reading any of these (or a record built
# from one) is left out of the local data check, by this list and nothing else.
CLUSTER_ONLY_METRICS = frozenset(
    {
        "kube_pod_container_status_restarts_total",  # kube-state-metrics
        "container_cpu_usage_seconds_total",  # cAdvisor, through the kubelet
        "container_memory_working_set_bytes",  # cAdvisor, through the kubelet
    }
)

_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
    | {"group_left", "group_right", "atan2"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_COMMENT = re.compile(r"#[^\n]*")
# An identifier not glued to a number (1e6, 5m) and not followed by "(" (a function call).
_NAME = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """Return the metric (and recorded series) names expr selects.

    Label matchers, strings, ranges, grouping label lists, function names and keywords are
    not names. Enough PromQL for the bundle's rules and dashboard, not a full parser.
    """
    text = _STRING.sub('""', expr)
    text = _COMMENT.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPING.sub("", text)
    return {name for name in _NAME.findall(text) if name.lower() not in _KEYWORDS}


def cluster_only(expr: str, records: dict[str, str] | None = None) -> bool:
    """Return whether expr reads a cluster-only metric, directly or through one of records."""
    records = records or {}
    seen: set[str] = set()
    pending = metric_names(expr)
    while pending:
        name = pending.pop()
        if name in CLUSTER_ONLY_METRICS:
            return True
        if name in records and name not in seen:
            seen.add(name)
            pending |= metric_names(records[name])
    return False
