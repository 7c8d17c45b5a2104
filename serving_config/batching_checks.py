"""Checks on BatchingParameters: values the batch scheduler rejects, and allowed_batch_sizes rules."""

from __future__ import annotations

from typing import Any

from serving_config.text_tree import Finding, TextNode, line_of

# Scheduler defaults TF Serving falls back to when a wrapper field is unset.
_DEFAULT_MAX_BATCH_SIZE = 1000
_POSITIVE_FIELDS = (
    "max_batch_size",
    "max_enqueued_batches",
    "num_batch_threads",
    "max_execution_batch_size",
)


def check_batching_parameters(params: Any, tree: TextNode) -> list[Finding]:
    """Values the batch scheduler rejects, and the allowed_batch_sizes rules TF Serving enforces.

    params is a BatchingParameters message (typed Any: its fields have no stubs).
    """
    findings: list[Finding] = []
    for name in _POSITIVE_FIELDS:
        if params.HasField(name) and getattr(params, name).value <= 0:
            value = getattr(params, name).value
            findings.append((line_of(tree, name), f"{name} must be positive; got {value}"))
    if params.HasField("batch_timeout_micros") and params.batch_timeout_micros.value < 0:
        value = params.batch_timeout_micros.value
        findings.append(
            (
                line_of(tree, "batch_timeout_micros"),
                f"batch_timeout_micros must be >= 0; got {value}",
            )
        )
    sizes = list(params.allowed_batch_sizes)
    nodes = tree.all("allowed_batch_sizes")
    lines = [n.line for n in nodes] if len(nodes) == len(sizes) else [1] * len(sizes)
    for index, size in enumerate(sizes):
        if size <= 0:
            findings.append((lines[index], f"allowed_batch_sizes entry {size} must be positive"))
        elif index and size <= sizes[index - 1]:
            findings.append(
                (
                    lines[index],
                    f"allowed_batch_sizes must be strictly increasing; {size} follows "
                    f"{sizes[index - 1]}",
                )
            )
    if sizes:
        has_max = params.HasField("max_batch_size")
        max_size = params.max_batch_size.value if has_max else _DEFAULT_MAX_BATCH_SIZE
        if sizes[-1] != max_size:
            source = "max_batch_size" if has_max else "the default max_batch_size"
            findings.append(
                (
                    lines[-1],
                    f"last allowed_batch_sizes entry {sizes[-1]} must equal {source} {max_size}; "
                    "TF Serving refuses to load models otherwise",
                )
            )
    return sorted(findings)
