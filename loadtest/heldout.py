"""Held-out examples of an exported version for load: its warmup requests, joined per signature."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from clients.spec import DEFAULT_SIGNATURE
from exported import WarmupRequest, find_card, read_warmup_requests, warmup_path
from wire.tensors import make_ndarray

__all__ = ["HeldOut", "example_features", "held_out_examples"]


@dataclass(frozen=True)
class HeldOut:
    """Held-out rows for one signature, in the order the exporter wrote them.

    A predict signature has `inputs` ({name: array with one row per example}); classify and
    regress signatures have `examples` ({feature: values} per row). `labels` are the model
    card's test_labels for these rows when the card has them: the exporter writes the first
    held-out examples in order, so row i is test example i.
    """

    kind: Literal["predict", "classify", "regress"]
    signature: str
    rows: int
    inputs: dict[str, np.ndarray] | None = None
    examples: list[dict[str, list[Any]]] | None = None
    labels: list[Any] | None = None

    def take(self, indices: np.ndarray) -> HeldOut:
        """The rows at indices (repeats allowed), labels included."""
        inputs = None if self.inputs is None else {k: v[indices] for k, v in self.inputs.items()}
        examples = None if self.examples is None else [self.examples[i] for i in indices]
        labels = None if self.labels is None else [self.labels[i] for i in indices]
        return HeldOut(self.kind, self.signature, len(indices), inputs, examples, labels)


def example_features(example: Any) -> dict[str, list[Any]]:
    """A tf.Example message as {feature: list of bytes, floats or ints}."""
    features = {}
    for name, feature in sorted(example.features.feature.items()):
        kind = feature.WhichOneof("kind")
        features[name] = list(getattr(feature, kind).value) if kind else []
    return features


def _matching(requests: list[WarmupRequest], signature: str) -> list[WarmupRequest]:
    return [r for r in requests if (r.signature_name or DEFAULT_SIGNATURE) == signature]


def _labels(directory: Path, rows: int) -> list[Any] | None:
    card = find_card(directory)
    labels = card.test_labels if card else None
    if labels is None or len(labels) < rows:
        return None
    return labels[:rows]


def held_out_examples(directory: Path, signature: str | None = None) -> HeldOut:
    """The held-out examples in a version's warmup file for one signature (serving_default).

    Predict requests are joined along dimension 0; classify and regress requests' examples are
    listed in order.

    Raises:
        OSError: the warmup file cannot be read.
        ValueError: the warmup file or model card is corrupt (ExportedError), the file holds
            no request for the signature, or its predict requests do not share input names.
    """
    signature = signature or DEFAULT_SIGNATURE
    path = warmup_path(directory)
    requests = _matching(read_warmup_requests(directory), signature)
    if not requests:
        raise ValueError(f"{path} holds no request for signature {signature!r}")
    kind = requests[0].kind
    if kind == "predict":
        names = sorted(requests[0].request.inputs)
        columns: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for item in requests:
            if item.kind != "predict" or sorted(item.request.inputs) != names:
                raise ValueError(f"{path}: the {signature!r} requests do not share their inputs")
            for name in names:
                columns[name].append(make_ndarray(item.request.inputs[name]))
        inputs = {name: np.concatenate(parts) for name, parts in columns.items()}
        rows = len(next(iter(inputs.values())))
        return HeldOut("predict", signature, rows, inputs=inputs, labels=_labels(directory, rows))
    examples = [
        example_features(example)
        for item in requests
        for example in item.request.input.example_list.examples
    ]
    rows = len(examples)
    return HeldOut(kind, signature, rows, examples=examples, labels=_labels(directory, rows))
