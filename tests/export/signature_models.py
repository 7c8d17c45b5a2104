"""Small SavedModels for the signature diff tests: one saved by TensorFlow, and copies of it whose
saved_model.pb signatures are rewritten (the graph left as it is)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exported.saved_model import saved_model_path
from wire.protos.messages import SavedModel

CLASSIFY_METHOD = "tensorflow/serving/classify"


def save_toy(directory: Path) -> Path:
    """A two-signature SavedModel: serving_default (predict: x float [-1, 4] and ids int64 [-1]
    -> probabilities float [-1, 3], class_ids int64 [-1]) and classify (examples -> scores)."""
    import tensorflow as tf

    from export.method_names import set_method_names

    class Toy(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.ones([4, 3]))

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 4], tf.float32, name="x"),
                tf.TensorSpec([None], tf.int64, name="ids"),
            ]
        )
        def serve(self, x, ids):
            probabilities = tf.nn.softmax(tf.matmul(x, self.w))
            return {"probabilities": probabilities, "class_ids": tf.argmax(probabilities, 1) + ids}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            parsed = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([4], tf.float32)})
            return {"scores": tf.nn.softmax(tf.matmul(parsed["x"], self.w))}

    toy = Toy()
    signatures = {
        "serving_default": toy.serve.get_concrete_function(),
        "classify": toy.classify.get_concrete_function(),
    }
    tf.saved_model.save(toy, str(directory), signatures=signatures)
    set_method_names(Path(directory), {"classify": CLASSIFY_METHOD})
    return Path(directory)


def rewritten_copy(source: Path, target: Path, edit: Callable[[Any], None]) -> Path:
    """target: a copy of source whose serve MetaGraph's signature map (a wire.protos map of
    SignatureDef) edit has changed in place."""
    shutil.copytree(source, target)
    path = saved_model_path(target)
    saved_model = SavedModel.FromString(path.read_bytes())
    (meta_graph,) = saved_model.meta_graphs
    edit(meta_graph.signature_def)
    path.write_bytes(saved_model.SerializeToString())
    return target


def set_shape(info: Any, dims: list[int] | None) -> None:
    """A TensorInfo's shape: dims, or an unknown rank for None."""
    info.tensor_shape.Clear()
    if dims is None:
        info.tensor_shape.unknown_rank = True
        return
    for size in dims:
        info.tensor_shape.dim.add(size=size)
