"""Bring your own model: describe any saved Keras 3 model as a ServingSpec."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keras
import numpy as np

from export.keras_loading import (
    import_custom_objects,
    keras_arguments,
    load_keras_model,
    model_input_specs,
)
from export.spec import InputSpec, ServingSpec, Task

log = logging.getLogger(__name__)
SYNTHETIC_EXAMPLES = 8


def _synthetic_examples(inputs: list[InputSpec], seed: int = 0) -> dict[str, np.ndarray]:
    """Stand-in requests for a model shipped without data: right names, dtypes and shapes."""
    rng = np.random.default_rng(seed)
    examples = {}
    for spec in inputs:
        shape = (SYNTHETIC_EXAMPLES, *(d or 1 for d in spec.shape))
        if spec.dtype == "string":
            examples[spec.name] = np.full(shape, b"", dtype=object)
        elif np.issubdtype(np.dtype(spec.dtype), np.integer):
            examples[spec.name] = rng.integers(0, 2, size=shape).astype(spec.dtype)
        else:
            examples[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
    return examples


def _load_examples(path: Path, inputs: list[InputSpec]) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        missing = sorted({s.name for s in inputs} - set(archive.files))
        if missing:
            raise ValueError(f"{path} lacks arrays for inputs: {', '.join(missing)}")
        return {s.name: _as_input(s, archive[s.name]) for s in inputs}


def _as_input(spec: InputSpec, array: np.ndarray) -> np.ndarray:
    """String inputs as arrays of bytes objects (an .npz stores text as fixed-width str or
    bytes, since object arrays need pickle); other inputs as they are."""
    if spec.dtype != "string":
        return array
    if array.dtype.kind == "U":
        return np.char.encode(array, "utf-8").astype(object)
    if array.dtype.kind == "S":
        return array.astype(object)
    raise ValueError(
        f"input {spec.name!r} is a string input; its examples have dtype {array.dtype}"
    )


def _check_task(
    model: keras.Model,
    task: Task,
    data: dict[str, np.ndarray],
    class_names: list[str] | None,
) -> list[str] | None:
    """The class names for --classify (given or 0..n-1) after checking, on the examples, that
    the model's answer fits the task: one probability vector, or one value, per example.

    Raises:
        ValueError: naming what the model's output is and what the task needs.
    """
    flag = "--classify" if task == "classifier" else "--regress"
    raw = model(keras_arguments(data), training=False)
    if isinstance(raw, dict | list | tuple):
        raise ValueError(f"{flag} needs a model with one output, this one has {len(raw)}")
    output = np.asarray(raw)
    per_example = output.shape[1:]
    if task == "regressor":
        if int(np.prod(per_example)) != 1:
            raise ValueError(
                f"--regress needs one value per example; the output has shape {output.shape}"
            )
        return class_names
    width = per_example[-1] if len(per_example) == 1 else 0
    rows_sum_to_one = np.allclose(output.sum(axis=-1), 1.0, atol=1e-3)
    if width < 2 or output.min() < 0 or output.max() > 1 or not rows_sum_to_one:
        raise ValueError(
            "--classify needs a probability vector over two or more classes per example (a"
            f" softmax); this model's output has shape {output.shape} and values from"
            f" {output.min():.3g} to {output.max():.3g}; export it without --classify"
        )
    names = class_names or [str(i) for i in range(width)]
    if len(names) != width:
        raise ValueError(f"{len(names)} class names for {width} model outputs")
    return names


def _load_labels(path: Path, rows: int) -> list[Any]:
    labels = np.load(path, allow_pickle=False).reshape(-1)
    if len(labels) != rows:
        raise ValueError(f"{path} holds {len(labels)} labels for {rows} held-out examples")
    values: list[Any] = labels.tolist()
    return values


def spec_from_keras(
    path: Path,
    name: str,
    task: Task = "generic",
    class_names: list[str] | None = None,
    output_names: list[str] | None = None,
    examples: Path | None = None,
    reference: Path | None = None,
    test_labels: Path | None = None,
    custom_objects: tuple[str, ...] = (),
    unsafe_deserialization: bool = False,
    input_specs: tuple[InputSpec, ...] = (),
) -> ServingSpec:
    """Load `path` (a .keras file, or a legacy .h5 Keras can read) and derive serving_default
    from its inputs (or `input_specs`) and outputs.

    `examples` (held-out inputs) become the version's test split and `reference` (training
    inputs, sampled to at most 500 rows) its reference sample; `test_labels` (.npy, one label
    per held-out example) go into the card. `custom_objects` are modules imported first (they
    register the model's own classes); `unsafe_deserialization` lets Keras run Lambda code.

    Raises:
        ValueError: the model does not load or declares no usable inputs, does not fit the
            requested task, an inputs file does not match its inputs, or the labels do not
            match the held-out examples.
    """
    import_custom_objects(custom_objects)
    model = load_keras_model(path, unsafe_deserialization)
    inputs = model_input_specs(model, input_specs)
    data = _load_examples(examples, inputs) if examples else _synthetic_examples(inputs)
    if task != "generic":
        class_names = _check_task(model, task, data, class_names)
    if not examples:
        log.warning(
            "no --examples given: warmup and validation use synthetic inputs,"
            " and the version gets no test split for drift checks"
        )
    if test_labels and not examples:
        raise ValueError("--test-labels needs --examples (the held-out inputs they label)")
    training_rows = _load_examples(reference, inputs) if reference else {}
    if not reference:
        log.warning("no --reference given: the version gets no training sample for drift checks")
    card: dict[str, Any] = {
        "source": {
            "keras_file": str(path),
            "examples": str(examples) if examples else "synthetic",
            "reference": str(reference) if reference else None,
        }
    }
    if test_labels:
        card["test_labels"] = _load_labels(test_labels, len(next(iter(data.values()))))
    return ServingSpec(
        name=name,
        model=model,
        inputs=inputs,
        task=task,
        class_names=class_names,
        output_names=output_names,
        examples=data,
        examples_are_data=examples is not None,
        reference=training_rows,
        card=card,
    )
