"""Serving inputs and outputs as per-feature columns: numbers, categories, image summaries."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

ColumnKind = Literal["numeric", "categorical"]
PREDICTION = "prediction"
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")
DARK_LEVEL = 0.25  # a pixel darker than a quarter of full intensity counts as dark
IMAGE_SUMMARIES = ("mean_intensity", "std_intensity", "dark_fraction")


class FeatureError(ValueError):
    """Inputs or outputs cannot be turned into feature columns."""


@dataclass(frozen=True)
class Column:
    """One feature: its values (float64 with NaN for missing, or str), kind and serving input."""

    values: np.ndarray
    kind: ColumnKind
    source: str


def _is_image(values: np.ndarray) -> bool:
    first = next((v for v in values.reshape(-1) if isinstance(v, bytes) and v), b"")
    return first.startswith(IMAGE_MAGIC)


def image_summaries(images: np.ndarray) -> np.ndarray:
    """Encoded images [n] -> [n, 3]: mean and std of intensity (0..1) and the dark-pixel share.

    An image Pillow cannot decode gets NaN summaries (counted as missing values).
    """
    from PIL import Image, UnidentifiedImageError

    summaries = np.full((len(images), len(IMAGE_SUMMARIES)), np.nan)
    for row, encoded in enumerate(images):
        try:
            with Image.open(io.BytesIO(encoded)) as image:
                pixels = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
        except (UnidentifiedImageError, OSError, TypeError, ValueError):
            continue
        summaries[row] = [pixels.mean(), pixels.std(), (pixels < DARK_LEVEL).mean()]
    return summaries


def _as_text(values: np.ndarray) -> np.ndarray:
    return np.asarray(
        [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values],
        dtype=object,
    )


def input_columns(inputs: dict[str, np.ndarray]) -> dict[str, Column]:
    """Feature columns of serving inputs (batch first).

    A scalar numeric input is one column; a vector or tensor input one column per element
    (`name[i]`); a string input of encoded images three summary columns (`name.mean_intensity`,
    ...); any other string input one categorical column.

    Raises:
        FeatureError: the inputs disagree on their number of rows.
    """
    rows = {name: len(array) for name, array in inputs.items()}
    if len(set(rows.values())) > 1:
        raise FeatureError(f"inputs have different numbers of rows: {rows}")
    columns: dict[str, Column] = {}
    for name in sorted(inputs):
        array = np.asarray(inputs[name])
        if array.dtype == object or array.dtype.kind in "SU":
            flat = array.reshape(len(array), -1)[:, 0]
            if _is_image(flat):
                summaries = image_summaries(flat)
                for index, summary in enumerate(IMAGE_SUMMARIES):
                    columns[f"{name}.{summary}"] = Column(summaries[:, index], "numeric", name)
            else:
                columns[name] = Column(_as_text(flat), "categorical", name)
            continue
        matrix = array.astype(np.float64).reshape(len(array), -1)
        if matrix.shape[1] == 1:
            columns[name] = Column(matrix[:, 0], "numeric", name)
        else:
            for index in range(matrix.shape[1]):
                columns[f"{name}[{index}]"] = Column(matrix[:, index], "numeric", name)
    return columns


def prediction_column(
    outputs: dict[str, np.ndarray], task: str, class_names: list[str] | None
) -> Column | None:
    """The model's prediction per row: the class name for a classifier, else the first value.

    Reads predict outputs (`class_ids`, `probabilities`, or a regressor's single output),
    classify outputs (`classes`, `scores`) and regress outputs (`outputs`). None when the
    outputs hold nothing this can read.
    """
    if task == "classifier":
        labels = _predicted_classes(outputs, class_names)
        return None if labels is None else Column(labels, "categorical", PREDICTION)
    numeric = [
        np.asarray(v) for _, v in sorted(outputs.items()) if np.asarray(v).dtype.kind in "fiu"
    ]
    if not numeric:
        return None
    return Column(
        numeric[0].astype(np.float64).reshape(len(numeric[0]), -1)[:, 0], "numeric", PREDICTION
    )


def _predicted_classes(outputs: dict[str, Any], class_names: list[str] | None) -> np.ndarray | None:
    if "classes" in outputs and "scores" in outputs:
        best = np.asarray(outputs["scores"]).argmax(axis=1)
        return _as_text(np.asarray(outputs["classes"])[np.arange(len(best)), best])
    if "class_ids" in outputs:
        ids = np.asarray(outputs["class_ids"]).reshape(-1).astype(np.int64)
    elif "probabilities" in outputs:
        ids = np.asarray(outputs["probabilities"]).argmax(axis=1)
    else:
        return None
    if class_names:
        return np.asarray(
            [class_names[i] if 0 <= i < len(class_names) else str(i) for i in ids], dtype=object
        )
    return _as_text(ids)
