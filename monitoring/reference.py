"""An exported version's reference data (card, training sample, test split), read without TF."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from wire import protos
from wire.tensors import make_ndarray
from wire.tfrecord import read_tfrecords

log = logging.getLogger(__name__)

ASSETS = "assets.extra"
CARD_FILE = "model_card.json"
REFERENCE_FILE = "reference_sample.tfrecord"
TEST_SPLIT_FILE = "test_split.tfrecord"
SERVING_DEFAULT = "serving_default"


class ReferenceError(ValueError):
    """A version's reference data is missing or cannot be read."""


@dataclass(frozen=True)
class ModelReference:
    """What drift and accuracy checks compare live traffic with, for one exported version.

    `train_sample` and `test_inputs` are serving_default inputs (name -> array, batch first);
    `test_labels` holds the label of each test row, in the same order. `train_outputs` holds
    the model's serving_default outputs on the training sample (empty for exports that did not
    store them), the reference for prediction drift.
    """

    name: str
    version: int
    version_dir: Path
    card: dict[str, Any]
    task: str
    class_names: list[str] | None
    signature: str
    train_sample: dict[str, np.ndarray]
    test_inputs: dict[str, np.ndarray]
    test_labels: np.ndarray
    test_metrics: dict[str, float]
    train_outputs: dict[str, np.ndarray] = field(default_factory=dict)

    def num_test_rows(self) -> int:
        return len(next(iter(self.test_inputs.values())))


def _append(batches: dict[str, list[np.ndarray]], tensors: Any, where: str) -> None:
    arrays = {name: make_ndarray(t) for name, t in tensors.items()}
    if batches and set(arrays) != set(batches):
        raise ReferenceError(f"{where} has tensors {sorted(arrays)}, not {sorted(batches)}")
    for name, array in arrays.items():
        batches.setdefault(name, []).append(array)


def read_logged_requests(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs, outputs) of the PredictionLog predict calls in path, concatenated in order.

    Outputs are empty when the records hold no responses.

    Raises:
        ReferenceError: the file is missing, corrupt, or its records disagree on tensor names.
    """
    if not path.is_file():
        raise ReferenceError(
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
    except ReferenceError:
        raise
    except (OSError, DecodeError, ValueError) as err:
        raise ReferenceError(f"{path} is corrupt: {err}") from err
    if not inputs:
        raise ReferenceError(f"{path} holds no records")
    return (
        {name: np.concatenate(parts) for name, parts in inputs.items()},
        {name: np.concatenate(parts) for name, parts in outputs.items()},
    )


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise ReferenceError(f"{path} is missing: not an exported version") from err
    except (OSError, ValueError) as err:
        raise ReferenceError(f"{path} is not a readable JSON model card: {err}") from err
    if not isinstance(card, dict):
        raise ReferenceError(f"{path} is not a JSON object")
    return card


def load_reference(version_dir: Path) -> ModelReference:
    """Read the card, training sample and test split of one exported version.

    Raises:
        ReferenceError: a file is missing or corrupt (the message names it), or the test
            labels do not match the test split.
    """
    version_dir = Path(version_dir)
    assets = version_dir / ASSETS
    card = _read_card(assets / CARD_FILE)
    train_sample, train_outputs = read_logged_requests(assets / REFERENCE_FILE)
    test_inputs, _ = read_logged_requests(assets / TEST_SPLIT_FILE)
    test_rows = len(next(iter(test_inputs.values())))
    labels = np.asarray(card.get("test_labels", []))
    if "test_labels" in card and len(labels) != test_rows:
        raise ReferenceError(
            f"{assets / CARD_FILE} has {len(labels)} test_labels for {test_rows} rows"
            f" in {assets / TEST_SPLIT_FILE}"
        )
    try:
        version = int(card.get("version", version_dir.name))
    except (TypeError, ValueError) as err:
        raise ReferenceError(f"{assets / CARD_FILE} names no integer version") from err
    return ModelReference(
        name=str(card.get("name", version_dir.parent.name)),
        version=version,
        version_dir=version_dir,
        card=card,
        task=str(card.get("task", "generic")),
        class_names=card.get("class_names"),
        signature=SERVING_DEFAULT,
        train_sample=train_sample,
        test_inputs=test_inputs,
        test_labels=labels,
        test_metrics={k: float(v) for k, v in card.get("metrics", {}).get("test", {}).items()},
        train_outputs=train_outputs,
    )


def latest_version_dir(models_root: Path, model: str) -> Path:
    """The newest (highest numbered) version folder of `model` under `models_root`.

    Raises:
        ReferenceError: the model folder is missing or holds no numbered version.
    """
    model_dir = Path(models_root) / model
    if not model_dir.is_dir():
        raise ReferenceError(f"no model {model!r} under {models_root}")
    versions = [int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise ReferenceError(f"{model_dir} holds no exported version")
    return model_dir / str(max(versions))


def version_dir(models_root: Path, model: str, version: int | None) -> Path:
    """The folder of `version` of `model`, or of its latest version when version is None.

    Raises:
        ReferenceError: the model or that version is not exported.
    """
    if version is None:
        return latest_version_dir(models_root, model)
    path = Path(models_root) / model / str(version)
    if not path.is_dir():
        raise ReferenceError(f"{model} version {version} is not exported under {models_root}")
    return path
