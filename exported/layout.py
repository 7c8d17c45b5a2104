"""Where `python -m export` puts each file of a version: <models_root>/<model>/<version>/...

    saved_model.pb, variables/            the SavedModel
    assets.extra/tf_serving_warmup_requests  warmup requests (TFRecord of PredictionLog)
    assets.extra/model_card.json          the model card (JSON)
    assets.extra/reference_sample.tfrecord   training sample as predict logs, with responses
    assets.extra/test_split.tfrecord      the held-out test split as predict requests

TF Serving reads only the SavedModel and the warmup file; it copies assets.extra along.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ASSETS_DIR",
    "CARD_FILE",
    "CARD_PATH",
    "REFERENCE_FILE",
    "REFERENCE_PATH",
    "TEST_SPLIT_FILE",
    "TEST_SPLIT_PATH",
    "WARMUP_FILE",
    "WARMUP_PATH",
    "assets_dir",
    "card_path",
    "held_out_path",
    "reference_path",
    "warmup_path",
]

ASSETS_DIR = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"  # the name TF Serving looks for
CARD_FILE = "model_card.json"
REFERENCE_FILE = "reference_sample.tfrecord"
TEST_SPLIT_FILE = "test_split.tfrecord"

# Relative to a version folder.
WARMUP_PATH = Path(ASSETS_DIR, WARMUP_FILE)
CARD_PATH = Path(ASSETS_DIR, CARD_FILE)
REFERENCE_PATH = Path(ASSETS_DIR, REFERENCE_FILE)
TEST_SPLIT_PATH = Path(ASSETS_DIR, TEST_SPLIT_FILE)


def assets_dir(version_dir: Path) -> Path:
    """The version's assets.extra folder: everything beside the SavedModel itself."""
    return Path(version_dir) / ASSETS_DIR


def warmup_path(version_dir: Path) -> Path:
    """Where TF Serving looks for the version's warmup requests."""
    return Path(version_dir) / WARMUP_PATH


def card_path(version_dir: Path) -> Path:
    """The version's model card."""
    return Path(version_dir) / CARD_PATH


def reference_path(version_dir: Path) -> Path:
    """The version's training sample (predict logs with the model's own responses)."""
    return Path(version_dir) / REFERENCE_PATH


def held_out_path(version_dir: Path) -> Path:
    """The version's held-out test split (predict requests; its labels are in the card).

    (Not test_split_path: pytest would collect that name where a test module imports it.)
    """
    return Path(version_dir) / TEST_SPLIT_PATH
