"""tf.train.Example features from plain Python values: the rules both transports share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# Python type -> the Feature list it goes into (bool before int: bool is an int subclass).
FEATURE_KINDS: dict[type, str] = {
    bool: "int64_list",
    int: "int64_list",
    float: "float_list",
    bytes: "bytes_list",
    str: "bytes_list",
}


def feature_values(name: str, value: Any) -> tuple[str | None, list[Any]]:
    """The Feature list kind (None when empty) and Python values of one feature value."""
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise ValueError(f"feature {name!r} is {value.ndim}-dimensional; features are flat")
        value = value.tolist()
    values = list(value) if isinstance(value, list | tuple) else [value]
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    kinds = set()
    for v in values:
        kind = next((k for t, k in FEATURE_KINDS.items() if isinstance(v, t)), None)
        if kind is None:
            raise ValueError(f"feature {name!r} holds {type(v).__name__}; use numbers or strings")
        if kind == "int64_list" and not -(2**63) <= v < 2**63:
            raise ValueError(f"feature {name!r} holds {v}, outside the int64 range")
        kinds.add(kind)
    if kinds == {"int64_list", "float_list"}:  # a number list with any decimal is a float list
        return "float_list", [float(v) for v in values]
    if len(kinds) > 1:
        raise ValueError(f"feature {name!r} mixes strings and numbers")
    return (kinds.pop() if kinds else None), values


def make_example(features: Mapping[str, Any], message_class: Any = None) -> Any:
    """A tf.train.Example of the features for gRPC classify and regress (rest_json.encode_examples' rules).

    message_class defaults to wire.protos.Example.

    Raises:
        ValueError: as encode_examples does.
    """
    if message_class is None:
        from wire.protos import Example  # lazily: any class with these fields will do

        message_class = Example
    example = message_class()
    feature_map = example.features.feature
    for name, value in features.items():
        kind, values = feature_values(name, value)
        feature = feature_map[name]  # creates the entry, so an empty list stays a feature
        if kind == "bytes_list":
            feature.bytes_list.value.extend(
                [v if isinstance(v, bytes) else v.encode() for v in values]
            )
        elif kind == "int64_list":
            feature.int64_list.value.extend([int(v) for v in values])
        elif kind == "float_list":
            feature.float_list.value.extend(values)
    return example
