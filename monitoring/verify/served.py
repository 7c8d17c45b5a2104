"""Send the held-out rows to a live server, one request per batch, timing each call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ServedRun", "send_batches"]


@dataclass(frozen=True)
class ServedRun:
    """A transport's answers for every row, and each call's latency in milliseconds."""

    transport: str
    outputs: dict[str, np.ndarray]
    latencies_ms: list[float]

    @property
    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 99)) if self.latencies_ms else 0.0


def send_batches(
    client: Any,
    transport: str,
    model: str,
    inputs: dict[str, np.ndarray],
    batch_size: int,
    *,
    version: int | None = None,
    label: str | None = None,
    signature: str | None = None,
) -> ServedRun:
    """Predict every row of inputs through client, batch_size rows per request.

    Raises:
        ServingClientError: (a subclass) the server refused or failed a request.
        ValueError: batch_size below 1, or no rows.
    """
    if batch_size < 1:
        raise ValueError(f"the batch size must be at least 1, not {batch_size}")
    rows = len(next(iter(inputs.values()), []))
    if rows == 0:
        raise ValueError("no held-out rows to send")
    parts: dict[str, list[np.ndarray]] = {}
    latencies = []
    for start in range(0, rows, batch_size):
        batch = {name: array[start : start + batch_size] for name, array in inputs.items()}
        started = time.perf_counter()
        outputs = client.predict(model, batch, version=version, label=label, signature=signature)
        latencies.append((time.perf_counter() - started) * 1000)
        for name, array in outputs.items():
            parts.setdefault(name, []).append(np.asarray(array))
    outputs = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    return ServedRun(transport, outputs, latencies)
