"""What a client of a signature depends on (method, inputs, outputs), and one change to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from wire.protos.messages import DataType

__all__ = [
    "Change",
    "Shape",
    "SignatureSpec",
    "TensorSpec",
    "format_shape",
    "method_label",
    "spec_from_metadata",
    "spec_from_signature_def",
]

Shape = tuple[int, ...] | None  # None: unknown rank; -1: a dimension of any size

_METHOD_PREFIX = "tensorflow/serving/"


def format_shape(shape: Shape) -> str:
    """[-1, 4], or "unknown rank"."""
    return "unknown rank" if shape is None else "[" + ", ".join(map(str, shape)) + "]"


def method_label(method_name: str) -> str:
    """ "predict" for tensorflow/serving/predict; another method name as it is."""
    if method_name.startswith(_METHOD_PREFIX):
        return method_name[len(_METHOD_PREFIX) :]
    return method_name or "(none)"


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: its dtype name ("DT_FLOAT") and shape."""

    dtype: str
    shape: Shape

    def describe(self) -> str:
        return f"{self.dtype} {format_shape(self.shape)}"


@dataclass(frozen=True)
class SignatureSpec:
    """One signature as its clients see it: method name, inputs and outputs by alias."""

    method_name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]

    def describe(self) -> str:
        return f"{method_label(self.method_name)} ({len(self.inputs)} in, {len(self.outputs)} out)"


def _dtype_name(number: int) -> str:
    try:
        return str(DataType.Name(number))
    except ValueError:
        return f"DataType {number}"


def _tensor_from_info(info: Any) -> TensorSpec:
    shape = info.tensor_shape
    dims = None if shape.unknown_rank else tuple(int(dim.size) for dim in shape.dim)
    return TensorSpec(_dtype_name(info.dtype), dims)


def spec_from_signature_def(signature: Any) -> SignatureSpec:
    """A SignatureDef message (wire.protos', or TensorFlow's own) as a SignatureSpec."""
    return SignatureSpec(
        str(signature.method_name),
        {alias: _tensor_from_info(info) for alias, info in signature.inputs.items()},
        {alias: _tensor_from_info(info) for alias, info in signature.outputs.items()},
    )


def _tensor_from_metadata(info: Mapping[str, Any]) -> TensorSpec:
    shape = info.get("shape")
    return TensorSpec(str(info["dtype"]), None if shape is None else tuple(map(int, shape)))


def spec_from_metadata(signature: Mapping[str, Any]) -> SignatureSpec:
    """A signature as the clients report GetModelMetadata's: {"inputs": {alias: {"dtype":
    "DT_FLOAT", "shape": [-1, 4] or None}}, "outputs": {...}, "method_name": "..."}.

    Raises:
        KeyError: the inputs, the outputs or a dtype is missing.
    """
    return SignatureSpec(
        str(signature.get("method_name", "")),
        {alias: _tensor_from_metadata(info) for alias, info in signature["inputs"].items()},
        {alias: _tensor_from_metadata(info) for alias, info in signature["outputs"].items()},
    )


@dataclass(frozen=True)
class Change:
    """One difference: where, what kind, the values before and after, the verdict and why."""

    signature: str
    kind: str
    what: str
    before: str
    after: str
    breaking: bool
    reason: str

    @property
    def verdict(self) -> str:
        return "breaking" if self.breaking else "compatible"

    def line(self) -> str:
        """The change in one line: signature, what, kind, before -> after, and why."""
        return (
            f"{self.signature}: {self.what}: {self.kind} ({self.before} -> {self.after}): "
            f"{self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}
