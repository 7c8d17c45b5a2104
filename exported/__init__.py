"""Exported versions as `python -m export` writes them, read without TensorFlow.

    <models_root>/<model>/<version>/         saved_model.pb, variables/, assets.extra/

The one home of that layout's names (exported.layout) and of reading it: a model's versions,
a version's model card, warmup requests, training sample and test split. export/ writes with
these names; the load tests, monitoring and the benchmark read with these functions. Only
numpy, protobuf and the wire package are imported.
"""

from __future__ import annotations

from exported.card import ModelCard, find_card, read_card
from exported.errors import ExportedError
from exported.layout import (
    ASSETS_DIR,
    CARD_FILE,
    CARD_PATH,
    REFERENCE_FILE,
    REFERENCE_PATH,
    TEST_SPLIT_FILE,
    TEST_SPLIT_PATH,
    WARMUP_FILE,
    WARMUP_PATH,
    assets_dir,
    card_path,
    held_out_path,
    reference_path,
    warmup_path,
)
from exported.reference import read_predict_logs, read_reference_sample, read_test_split
from exported.versions import (
    latest_version_dir,
    list_versions,
    parse_version,
    version_dir,
    version_path,
)
from exported.warmup import WarmupRequest, read_warmup_logs, read_warmup_requests

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
    "ExportedError",
    "ModelCard",
    "WarmupRequest",
    "assets_dir",
    "card_path",
    "find_card",
    "held_out_path",
    "latest_version_dir",
    "list_versions",
    "parse_version",
    "read_card",
    "read_predict_logs",
    "read_reference_sample",
    "read_test_split",
    "read_warmup_logs",
    "read_warmup_requests",
    "reference_path",
    "version_dir",
    "version_path",
    "warmup_path",
]
