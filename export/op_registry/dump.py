"""Dump the op registry of the TensorFlow this script runs in (standalone: needs only tensorflow).

Run by path with the interpreter of the release to record, e.g.
`<env>/bin/python export/op_registry/dump.py out.json.gz`. It writes every registered op's
attrs (name, type, default, allowed types) with the TensorFlow version and the date, as
gzipped JSON; `python -m export.op_registry dump` runs it in the release's serving env.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
from pathlib import Path
from typing import Any

FORMAT = 1


def _attr_entry(attr: Any, dtype_name: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": attr.type}
    if attr.HasField("default_value"):
        # The text form is short and stable; the checker only compares it for reports.
        entry["default"] = str(attr.default_value).strip().replace("\n", " ")
    if attr.type in ("type", "list(type)") and attr.HasField("allowed_values"):
        entry["allowed"] = sorted(dtype_name(v) for v in attr.allowed_values.list.type)
    return entry


def registry() -> dict[str, Any]:
    """The running TensorFlow's op registry: op name -> {"attrs": {name: entry}}."""
    import tensorflow as tf
    from tensorflow.core.framework import op_def_pb2, types_pb2
    from tensorflow.python.client import pywrap_tf_session

    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        op_list = op_def_pb2.OpList.FromString(pywrap_tf_session.TF_GetBuffer(buffer))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)
    dtype_name = types_pb2.DataType.Name
    ops = {
        op.name: {"attrs": {a.name: _attr_entry(a, dtype_name) for a in op.attr}}
        for op in op_list.op
    }
    return {
        "format": FORMAT,
        "tensorflow_version": tf.__version__,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ops": dict(sorted(ops.items())),
    }


def write(path: Path, data: dict[str, Any]) -> None:
    """Gzipped JSON with a fixed gzip timestamp, so equal registries give equal bytes."""
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(text.encode())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: dump.py OUT.json.gz\n")
        return 2
    data = registry()
    write(Path(argv[0]), data)
    sys.stdout.write(f"{len(data['ops'])} ops of TensorFlow {data['tensorflow_version']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
