"""Model metadata and status as plain Python values, the same from gRPC messages and REST JSON.

A signature is {"inputs": {alias: {"dtype": "DT_FLOAT", "shape": [-1]}}, "outputs": {...},
"method_name": "tensorflow/serving/predict"}; a shape is None when its rank is unknown.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from clients.errors import InvalidInputError, ServerError

__all__ = [
    "ModelMetadata",
    "SignatureCache",
    "VersionStatus",
    "find_signature",
    "metadata_from_json",
    "signatures_from_json",
    "signatures_from_proto",
    "statuses_from_json",
    "statuses_from_proto",
]

Signature = dict[str, Any]


@dataclass(frozen=True)
class VersionStatus:
    """One version's state as the server reports it, e.g. (2, "AVAILABLE", "OK", "")."""

    version: int
    state: str
    error_code: str
    error_message: str


@dataclass(frozen=True)
class ModelMetadata:
    """GetModelMetadata's answer: the version that answered (how a label or "the latest"
    resolves) and its signatures."""

    name: str
    version: int
    signatures: dict[str, Signature]


def _tensor_info_from_proto(info: Any, dtype_name: Callable[[int], str]) -> dict[str, Any]:
    shape = info.tensor_shape
    dims = None if shape.unknown_rank else [dim.size for dim in shape.dim]
    return {"dtype": dtype_name(info.dtype), "shape": dims}


def signatures_from_proto(
    signature_defs: Mapping[str, Any], dtype_name: Callable[[int], str]
) -> dict[str, Signature]:
    """Signatures from a SignatureDefMap's signature_def field; dtype_name names DataTypes."""
    return {
        key: {
            "inputs": {k: _tensor_info_from_proto(v, dtype_name) for k, v in sig.inputs.items()},
            "outputs": {k: _tensor_info_from_proto(v, dtype_name) for k, v in sig.outputs.items()},
            "method_name": sig.method_name,
        }
        for key, sig in sorted(signature_defs.items())
    }


def _tensor_info_from_json(info: Mapping[str, Any]) -> dict[str, Any]:
    shape = info.get("tensor_shape", {})
    unknown = shape.get("unknown_rank", False)
    dims = None if unknown else [int(dim.get("size", 0)) for dim in shape.get("dim", [])]
    return {"dtype": info.get("dtype", "DT_INVALID"), "shape": dims}


def signatures_from_json(document: Mapping[str, Any]) -> dict[str, Signature]:
    """Signatures from a REST metadata body {"metadata": {"signature_def": {...}}}.

    Raises:
        ServerError: if the body does not hold a signature_def map.
    """
    try:
        defs = document["metadata"]["signature_def"]["signature_def"]
        return {
            key: {
                "inputs": {k: _tensor_info_from_json(v) for k, v in sig["inputs"].items()},
                "outputs": {k: _tensor_info_from_json(v) for k, v in sig["outputs"].items()},
                "method_name": sig.get("method_name", ""),
            }
            for key, sig in sorted(defs.items())
        }
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise ServerError(f"malformed model metadata: {str(document)[:200]}") from err


def metadata_from_json(name: str, document: Mapping[str, Any]) -> ModelMetadata:
    """A REST metadata body {"model_spec": {"version": "2", ...}, "metadata": {...}} as
    ModelMetadata.

    Raises:
        ServerError: if the body does not hold a version and a signature_def map.
    """
    try:
        version = int(document["model_spec"]["version"])
    except (KeyError, TypeError, ValueError) as err:
        raise ServerError(f"model metadata without a version: {str(document)[:200]}") from err
    return ModelMetadata(name, version, signatures_from_json(document))


def statuses_from_proto(
    statuses: Any, state_name: Callable[[int], str], code_name: Callable[[int], str]
) -> list[VersionStatus]:
    """Version statuses from GetModelStatusResponse.model_version_status; the callables name enums."""
    return [
        VersionStatus(
            s.version, state_name(s.state), code_name(s.status.error_code), s.status.error_message
        )
        for s in statuses
    ]


def statuses_from_json(document: Mapping[str, Any]) -> list[VersionStatus]:
    """Version statuses from a REST status body {"model_version_status": [...]}.

    Raises:
        ServerError: if the body is not such a list.
    """
    try:
        return [
            VersionStatus(
                int(s["version"]),
                s["state"],
                s.get("status", {}).get("error_code", "OK"),
                s.get("status", {}).get("error_message", ""),
            )
            for s in document["model_version_status"]
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise ServerError(f"malformed model status: {str(document)[:200]}") from err


def find_signature(signatures: Mapping[str, Signature], model: str, name: str) -> Signature:
    """The signature called name.

    Raises:
        InvalidInputError: (code None) if the model has no such signature.
    """
    if name not in signatures:
        raise InvalidInputError(
            f'Serving signature name: "{name}" not found in model {model}; '
            f"it has {', '.join(sorted(signatures)) or 'none'}"
        )
    return signatures[name]


class SignatureCache:
    """A small thread-safe LRU of each model address's signatures, each entry valid for ttl s.

    A model's latest version or a label can move to a version with other signatures, so
    entries expire, and callers drop an entry when a call that relied on it fails.
    """

    def __init__(
        self, max_entries: int = 64, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries, self.ttl, self.clock = max_entries, ttl, clock
        self._entries: OrderedDict[Hashable, tuple[float, dict[str, Signature]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[str, Signature] | None:
        """The cached signatures, or None if absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, signatures: dict[str, Signature]) -> None:
        """Cache signatures under key, dropping the least recently used entry when full."""
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, signatures)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget key's entry, if any."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
