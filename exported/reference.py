"""A version's reference data: its training sample and held-out test split, without TensorFlow.

Both files are TFRecords of PredictionLog predict logs for serving_default, rows split over
records in order; the training sample's logs hold the model's own responses too (exports from
before that have requests only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from exported.errors import ExportedError
from exported.layout import held_out_path, reference_path
from wire import protos
from wire.tensors import make_ndarray
from wire.tfrecord import read_tfrecords

__all__ = ["read_predict_logs", "read_reference_sample", "read_test_split"]

Arrays = dict[str, np.ndarray]


def _append(batches: dict[str, list[np.ndarray]], tensors: Any, where: str) -> None:
    arrays = {str(name): make_ndarray(t) for name, t in tensors.items()}
    if batches and set(arrays) != set(batches):
        raise ExportedError(f"{where} has tensors {sorted(arrays)}, not {sorted(batches)}")
    for name, array in arrays.items():
        batches.setdefault(name, []).append(array)


def read_predict_logs(path: Path) -> tuple[Arrays, Arrays]:
    """(inputs, outputs) of the PredictionLog predict logs in path, each joined along rows.

    Outputs are empty when the records hold no responses.

    Raises:
        ExportedError: the file is missing ("missing"), corrupt ("corrupt"), holds no record,
            or its records disagree on tensor names.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportedError(
            f"{path} is missing: export the version again (python -m export keras writes it"
            " from --reference and --examples)"
        )
    inputs: dict[str, list[np.ndarray]] = {}
    outputs: dict[str, list[np.ndarray]] = {}
    try:
        for index, raw in enumerate(read_tfrecords(path)):
            predict_log = protos.PredictionLog.FromString(raw).predict_log
            _append(inputs, predict_log.request.inputs, f"{path}: record {index}")
            if predict_log.response.outputs or outputs:
                _append(outputs, predict_log.response.outputs, f"{path}: record {index}")
    except ExportedError:
        raise
    except (OSError, DecodeError, ValueError) as err:
        raise ExportedError(f"{path} is corrupt: {err}") from err
    if not inputs:
        raise ExportedError(f"{path} holds no records")
    return (
        {name: np.concatenate(parts) for name, parts in inputs.items()},
        {name: np.concatenate(parts) for name, parts in outputs.items()},
    )


def read_reference_sample(version_dir: Path) -> tuple[Arrays, Arrays]:
    """The training sample's serving_default inputs and the model's outputs on them.

    Outputs are empty for exports that did not store them.

    Raises:
        ExportedError: the file is missing or corrupt (the message names it).
    """
    return read_predict_logs(reference_path(version_dir))


def read_test_split(version_dir: Path) -> Arrays:
    """The held-out test split's serving_default inputs (the card has its labels).

    Raises:
        ExportedError: the file is missing or corrupt (the message names it).
    """
    inputs, _ = read_predict_logs(held_out_path(version_dir))
    return inputs
