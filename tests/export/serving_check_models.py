"""Small SavedModels that TF Serving 2.20.0 cannot load, and ones it can, for check-serving.

What TensorFlow 2.21.0 adds to 2.20.0 (export/op_registries): the op DecodeJxl, and the attr
Tshape of TensorListGetItem (the dtype of element_shape; 2.20.0 takes int32 only).
- `newer_op`: DecodeJxl inside a tf.function (so in the function library), by tf.saved_model;
- `newer_attr`: TensorListGetItem with an int64 element_shape, so Tshape=DT_INT64;
- `default_attr`: the same op at int32, written by a TF1 builder that keeps default-valued
  attrs, so Tshape=DT_INT32 is in the NodeDef though 2.20.0 has no Tshape;
- `newer_dtype`: Range over uint64, which 2.20.0's Range allows and 2.19.0's does not;
- `custom_op`: a TF1 graph whose Identity node is renamed to SentencepieceOp, an op of an
  op library outside core TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

v1 = tf.compat.v1
CUSTOM_OP = "SentencepieceOp"


class _NewerOp(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="contents")])
    def decode(self, contents: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"image": tf.raw_ops.DecodeJxl(contents=contents, channels=3)}


class _NewerAttr(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def first_row(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": _first_row(x, tf.int64)}


class _NewerDtype(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([], tf.uint64, name="limit")])
    def count(self, limit: tf.Tensor) -> dict[str, tf.Tensor]:
        one = tf.constant(1, tf.uint64)
        return {"ids": tf.raw_ops.Range(start=tf.constant(0, tf.uint64), limit=limit, delta=one)}


def _first_row(x: tf.Tensor, shape_dtype: tf.DType) -> tf.Tensor:
    shape = tf.constant([3], dtype=shape_dtype)
    handle = tf.raw_ops.TensorListFromTensor(tensor=x, element_shape=shape)
    return tf.raw_ops.TensorListGetItem(
        input_handle=handle, index=tf.constant(0), element_shape=shape, element_dtype=tf.float32
    )


def newer_op(path: Path) -> Path:
    module = _NewerOp()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.decode})
    return path


def newer_attr(path: Path) -> Path:
    module = _NewerAttr()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.first_row})
    return path


def newer_dtype(path: Path) -> Path:
    module = _NewerDtype()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.count})
    return path


def _save_v1(path: Path, build_outputs: object, strip_default_attrs: bool) -> Path:
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        y = build_outputs(x)  # type: ignore[operator]
        signature = v1.saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})
        builder = v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(
            session,
            ["serve"],
            signature_def_map={"serving_default": signature},
            strip_default_attrs=strip_default_attrs,
        )
        builder.save()
    return path


def default_attr(path: Path) -> Path:
    return _save_v1(path, lambda x: _first_row(x, tf.int32), strip_default_attrs=False)


def custom_op(path: Path) -> Path:
    _save_v1(path, lambda x: tf.identity(x, name="tokenize"), strip_default_attrs=True)
    pb = path / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(pb.read_bytes())
    for node in saved.meta_graphs[0].graph_def.node:
        if node.name == "tokenize":
            node.op = CUSTOM_OP
    pb.write_bytes(saved.SerializeToString())
    return path
