"""What to export: a Keras model, its serving inputs and the signatures to build around it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

Task = Literal["classifier", "regressor", "generic"]

SERVING_DEFAULT = "serving_default"
CLASSIFY = "classify"
REGRESS = "regress"

_NAME_RE = re.compile(r"[^a-z0-9_]+")


def feature_name(raw: str) -> str:
    """A signature-safe name for a data set column: lower case, words joined by `_`."""
    name = _NAME_RE.sub("_", raw.strip().lower()).strip("_")
    if not name:
        raise ValueError(f"cannot make a feature name out of {raw!r}")
    if name[0].isdigit():
        name = f"f_{name}"
    return name


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One named serving input: dtype (a numpy dtype name or "string") and per-example shape."""

    name: str
    dtype: str
    shape: tuple[int | None, ...] = ()


@dataclasses.dataclass
class ServingSpec:
    """Everything the exporter needs to know about one model.

    `preprocess` maps the serving inputs (a dict of tensors) to what the Keras model takes;
    it runs inside the graph, so clients send raw values (for example PNG bytes).
    `examples` holds held-out serving inputs (numpy, batch first) for warmup and validation;
    `examples_are_data` is False when they are synthetic stand-ins, not a real test split.
    `reference` holds training rows as serving inputs (sampled at export) for drift checks.
    """

    name: str
    model: Any
    inputs: list[InputSpec]
    task: Task = "generic"
    class_names: list[str] | None = None
    output_names: list[str] | None = None
    preprocess: Callable[[dict[str, Any]], Any] | None = None
    examples: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    examples_are_data: bool = True
    reference: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    card: dict[str, Any] = dataclasses.field(default_factory=dict)
    extra_signatures: tuple[str, ...] = ()
    # Extra objects saved as attributes of the SavedModel (e.g. a Normalization layer's
    # variables, so tests can read the statistics baked into the graph).
    tracked: dict[str, Any] = dataclasses.field(default_factory=dict)

    def signature_names(self) -> list[str]:
        names = [SERVING_DEFAULT]
        if self.task == "classifier" or CLASSIFY in self.extra_signatures:
            names.append(CLASSIFY)
        if self.task == "regressor" or REGRESS in self.extra_signatures:
            names.append(REGRESS)
        return names

    def num_examples(self) -> int:
        return len(next(iter(self.examples.values()))) if self.examples else 0
