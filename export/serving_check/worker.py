"""Run requests through TF Serving's session path in whatever TensorFlow runs this file.

Standalone (needs only tensorflow and numpy), executed by path with another environment's
interpreter: `python worker.py REQUEST.json RESULT.json`. The request names SavedModels,
each with runs (signature, inputs); the worker loads each the `serve` MetaGraph with the TF1
loader into a Session, as TF Serving's SavedModelBundle does (its graph as written), feeds each run's inputs by the
SignatureDef's tensor names, fetches its outputs by theirs, and writes the outputs (or the
error) of each run. Arrays travel as JSON: dtype, shape and base64 bytes.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

BYTES = "bytes"  # string tensors: a list of base64 items instead of one buffer


def encode_array(array: Any) -> dict[str, Any]:
    """An array as JSON: numbers as one little-endian buffer, strings item by item."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        items = [v if isinstance(v, bytes) else str(v).encode() for v in array.reshape(-1)]
        encoded = [base64.b64encode(v).decode() for v in items]
        return {"dtype": BYTES, "shape": list(array.shape), "items": encoded}
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    data = base64.b64encode(np.ascontiguousarray(little).tobytes()).decode()
    return {"dtype": little.dtype.str, "shape": list(array.shape), "data": data}


def decode_array(encoded: dict[str, Any]) -> np.ndarray:
    shape = tuple(encoded["shape"])
    if encoded["dtype"] == BYTES:
        items = [base64.b64decode(v) for v in encoded["items"]]
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array.reshape(shape)
    return np.frombuffer(base64.b64decode(encoded["data"]), dtype=encoded["dtype"]).reshape(shape)


def _first_lines(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {' | '.join(lines[:3])}"


def answer_version(job: dict[str, Any]) -> dict[str, Any]:
    """Load one SavedModel and answer its runs (see the module docstring)."""
    import tensorflow as tf
    from tensorflow.python.saved_model import loader_impl

    result: dict[str, Any] = {"load_error": None, "runs": []}
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        try:
            loader = loader_impl.SavedModelLoader(job["saved_model"])
            # TF Serving's C++ loader hands the graph to the Session as it is; Python's would
            # first drop attrs this TensorFlow does not know (by the exporter's op list).
            tags = ["serve"]
            loader.get_meta_graph_def_from_tags(tags).meta_info_def.ClearField("stripped_op_list")
            meta_graph = loader.load(session, tags)
        except Exception as err:  # any load failure is the answer, as TF Serving reports it
            result["load_error"] = _first_lines(err)
            return result
        for run in job["runs"]:
            try:
                signature = meta_graph.signature_def[run["signature"]]
                feed = {
                    signature.inputs[alias].name: decode_array(value)
                    for alias, value in run["inputs"].items()
                }
                fetch = {alias: info.name for alias, info in signature.outputs.items()}
                outputs = session.run(fetch, feed)
            except Exception as err:  # a failing request is reported with its run
                result["runs"].append({"error": _first_lines(err)})
                continue
            encoded = {alias: encode_array(value) for alias, value in outputs.items()}
            result["runs"].append({"outputs": encoded})
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: worker.py REQUEST.json RESULT.json\n")
        return 2
    import tensorflow as tf

    request = json.loads(Path(argv[0]).read_text())
    answers = [answer_version(job) for job in request["versions"]]
    Path(argv[1]).write_text(json.dumps({"tensorflow": tf.__version__, "versions": answers}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
