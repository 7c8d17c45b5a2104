"""Load a user's Keras model file and read its serving inputs, or say clearly why not."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from export.spec import InputSpec

log = logging.getLogger(__name__)

LEGACY_SUFFIXES = (".h5", ".hdf5")


def import_custom_objects(modules: Sequence[str]) -> None:
    """Import each module (a dotted name, or a .py file) so the classes it registers with
    `keras.saving.register_keras_serializable` are known before the model loads.

    Raises:
        ValueError: a module cannot be imported (the message names it and why).
    """
    for name in modules:
        try:
            if name.endswith(".py"):
                path = Path(name)
                spec = importlib.util.spec_from_file_location(path.stem, path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"not a Python file: {path}")
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            else:
                importlib.import_module(name)  # noqa: F401 (registers classes)
        except Exception as err:  # any error while running the user's module
            raise ValueError(f"--custom-objects {name}: {type(err).__name__}: {err}") from err


def load_keras_model(path: Path, unsafe_deserialization: bool = False) -> keras.Model:
    """The model in `path` (.keras, or a legacy .h5 when Keras can still read it), without
    its training configuration (serving needs no optimizer, loss or metrics).

    Raises:
        ValueError: the file does not load; the message says what to do about it.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no model file at {path}")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=not unsafe_deserialization)
    except Exception as err:
        raise ValueError(_load_advice(path, err)) from err
    if path.suffix in LEGACY_SUFFIXES:
        log.warning("%s is a legacy HDF5 file; re-save it with model.save('model.keras')", path)
    return model


def _load_advice(path: Path, err: Exception) -> str:
    text = f"{type(err).__name__}: {err}".splitlines()[0][:400]
    if path.suffix in LEGACY_SUFFIXES:
        return (
            f"{path} is a legacy HDF5 file that this Keras cannot load ({text}); load it in the"
            " Keras that wrote it and re-save it with model.save('model.keras')"
        )
    if "safe_mode" in str(err) or "lambda" in str(err).lower():
        return (
            f"{path} holds Python code (a Lambda layer) that Keras will not run by default"
            f" ({text}); if you trust the file, pass --unsafe-deserialization"
        )
    if "Could not locate" in str(err) or "register_keras_serializable" in str(err):
        return (
            f"{path} uses a class Keras does not know ({text}); pass --custom-objects with the"
            " module (or .py file) that defines it, decorated with"
            " @keras.saving.register_keras_serializable()"
        )
    return f"{path} does not load: {text}"


def parse_input_spec(text: str) -> InputSpec:
    """`name:dtype:shape`, the shape of one example with `?` for a free axis, e.g.
    `features:float32:4`, `image:uint8:28,28,1`, `text:string:` (a scalar per example).

    Raises:
        ValueError: the text is not of that form.
    """
    parts = text.split(":")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ValueError(
            f"--input-spec {text!r}: expected name:dtype:shape, e.g. features:float32:4"
        )
    name, dtype, shape_text = parts
    try:
        shape = tuple(
            None if d.strip() in ("?", "None") else int(d) for d in shape_text.split(",") if d
        )
        if dtype != "string":
            keras.backend.standardize_dtype(dtype)
    except ValueError as err:
        raise ValueError(f"--input-spec {text!r}: {err}") from err
    return InputSpec(name, dtype, shape)


def model_input_specs(model: keras.Model, given: Sequence[InputSpec] = ()) -> list[InputSpec]:
    """The serving inputs: those given, else the model's own, each with a free batch axis.

    Raises:
        ValueError: the model declares no inputs (a subclassed model) and none were given, or
            an input's first axis is fixed, so requests could not be stacked along it.
    """
    if given:
        return list(given)
    try:
        tensors = list(model.inputs)
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"the model ({type(model).__name__}) declares no inputs, as subclassed models do:"
            " pass --input-spec name:dtype:shape for each input (e.g. features:float32:4),"
            " or build it as a functional model with keras.Input"
        ) from err
    specs = [InputSpec(t.name, _dtype_name(t.dtype), tuple(t.shape)[1:]) for t in tensors]
    fixed = {t.name: tuple(t.shape) for t in tensors if not t.shape or t.shape[0] is not None}
    if fixed and not _batch_axis_follows(model, specs):
        name, shape = next(iter(fixed.items()))
        raise ValueError(
            f"input {name!r} has shape {shape}: its first axis is not a batch axis (the model"
            " does not answer other batch sizes), and TF Serving stacks requests along it;"
            " build the input with keras.Input(shape=...) or pass --input-spec"
        )
    return specs


def keras_arguments(arrays: dict[str, Any]) -> Any:
    """Arrays keyed by input name as a Keras model takes them: text (object arrays of bytes)
    as tf.string tensors, and a model's only input bare rather than in a dict."""
    values = {
        k: tf.constant(v) if isinstance(v, np.ndarray) and v.dtype == object else v
        for k, v in arrays.items()
    }
    return values if len(values) > 1 else next(iter(values.values()))


def _dtype_name(dtype: object) -> str:
    return "string" if dtype == "string" else str(dtype)


def _batch_axis_follows(model: keras.Model, specs: list[InputSpec]) -> bool:
    """Whether the model answers batches of 1 and 3 examples with 1 and 3 rows.

    A model built by calling it on data (a Sequential without keras.Input) records that
    data's batch size as a fixed first axis; it still serves any batch size.
    """
    for rows in (1, 3):
        values = {}
        for spec in specs:
            shape = (rows, *(d or 1 for d in spec.shape))
            values[spec.name] = (
                tf.fill(shape, "") if spec.dtype == "string" else np.zeros(shape, spec.dtype)
            )
        try:
            raw = model(keras_arguments(values), training=False)
        except Exception:  # a fixed-size graph refuses the other batch size
            return False
        if any(tuple(out.shape)[:1] != (rows,) for out in tf.nest.flatten(raw)):
            return False
    return True
