"""Prometheus metrics with TF Serving's names, labels and buckets, and the page that shows them."""

from __future__ import annotations

from server.metrics.exposition import CONTENT_TYPE, exponential_buckets, prometheus_name
from server.metrics.serving import VERSION_STATES, ServingMetrics

__all__ = [
    "CONTENT_TYPE",
    "VERSION_STATES",
    "ServingMetrics",
    "exponential_buckets",
    "prometheus_name",
]
