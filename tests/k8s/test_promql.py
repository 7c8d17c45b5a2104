"""Reading metric names out of PromQL, which the data checks and the cluster-only rule rely on."""

from __future__ import annotations

import pytest

from deploy_checks.promql import cluster_only, metric_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        pytest.param(
            'sum by (model_name, status) (rate(:tensorflow:serving:request_count{status!="OK"}[5m]))',
            {":tensorflow:serving:request_count"},
            id="aggregation-over-function",
        ),
        pytest.param(
            "histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval]))) / 1e6",
            {"a_bucket"},
            id="numbers-and-durations-are-not-names",
        ),
        pytest.param(
            'label_replace(x{status="fail"} unless x offset 15m, "m", "$1", "model_path", ".*")'
            " or increase(y[15m])",
            {"x", "y"},
            id="strings-offset-and-set-operators",
        ),
        pytest.param(
            "sum(rate(a[5m])) by (le) / on (pod) group_left (node) b > bool 2",
            {"a", "b"},
            id="grouping-label-lists",
        ),
        pytest.param("max by (model_name) (r:x:y == 1)", {"r:x:y"}, id="recorded-name"),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_cluster_only_follows_records() -> None:
    records = {"ns:restarts:increase": "increase(kube_pod_container_status_restarts_total[5m])"}
    assert cluster_only("ns:restarts:increase > 2", records)
    assert cluster_only("container_memory_working_set_bytes", {})
    assert not cluster_only("rate(:tensorflow:serving:request_count[5m])", records)
